"""Login rate limiting: failed attempts counted in Redis per username and per address,
in a fixed window. Shared by every web process; gone when the window ends."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis


class LoginLimiter:
    def __init__(self, client: aioredis.Redis, *, attempts: int, window_s: int) -> None:
        self.redis = client
        self.attempts = attempts
        self.window_s = window_s

    def _keys(self, username: str, ip: str) -> list[str]:
        # Hashed: the key space holds no typed usernames.
        user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        # An address may try several usernames, but not without limit.
        return [f"cr:login-failures:user:{user}:{ip}", f"cr:login-failures:ip:{ip}"]

    async def blocked_for(self, *, username: str, ip: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        user_key, ip_key = self._keys(username, ip)
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(user_key)
        pipe.ttl(user_key)
        pipe.get(ip_key)
        pipe.ttl(ip_key)
        user_count, user_ttl, ip_count, ip_ttl = await pipe.execute()
        waits = []
        if int(user_count or 0) >= self.attempts:
            waits.append(user_ttl)
        if int(ip_count or 0) >= self.attempts * 4:
            waits.append(ip_ttl)
        return max([max(1, int(w)) for w in waits], default=0)

    async def failed(self, *, username: str, ip: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for key in self._keys(username, ip):
            # The window starts at the first failure and is not extended by later ones.
            pipe.set(key, 0, ex=self.window_s, nx=True)
            pipe.incr(key)
        await pipe.execute()

    async def succeeded(self, *, username: str, ip: str) -> None:
        await self.redis.delete(self._keys(username, ip)[0])
