"""Login rate limiting in Redis, shared by every web process.

An attempt is counted *before* the password is checked, atomically with the check of
the limits (one Lua script), so parallel guesses cannot slip through between reading
and counting. Three buckets, each a fixed window from its first attempt:
- username + address: `attempts`;
- address: 4 × `attempts` (one machine trying many usernames);
- username: 4 × `attempts` (many machines trying one username).
A successful login gives its attempt back (and clears the username + address bucket),
so only failures use up the limits.
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from controlroom.bus import keys

# KEYS: buckets. ARGV: window (s), then each bucket's limit.
# Returns 0 and counts the attempt, or the seconds until the fullest bucket empties.
_RESERVE = """
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
    wait = math.max(wait, redis.call('TTL', key))
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[1], 'NX')
  redis.call('INCR', key)
end
return 0
"""


class LoginLimiter:
    def __init__(self, client: aioredis.Redis, *, attempts: int, window_s: int) -> None:
        self.redis = client
        self.attempts = attempts
        self.window_s = window_s
        self._reserve = client.register_script(_RESERVE)

    @staticmethod
    def _keys(username: str, ip: str) -> list[str]:
        # Hashed: the key space holds no typed usernames.
        user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        return [keys.login_attempts("user-ip", f"{user}:{ip}"), keys.login_attempts("ip", ip),
                keys.login_attempts("user", user)]

    async def try_attempt(self, *, username: str, ip: str) -> int:
        """0: go ahead (the attempt is counted); otherwise the seconds to wait."""
        limits = [self.attempts, 4 * self.attempts, 4 * self.attempts]
        wait = await self._reserve(keys=self._keys(username, ip), args=[self.window_s, *limits])
        return max(1, int(wait)) if int(wait) else 0

    async def succeeded(self, *, username: str, ip: str) -> None:
        user_ip, by_ip, by_user = self._keys(username, ip)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(user_ip)
        pipe.decr(by_ip)
        pipe.decr(by_user)
        await pipe.execute()
