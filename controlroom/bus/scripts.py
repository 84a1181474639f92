"""Lua scripts: each runs atomically in Redis, so a batch is either wholly written or
not at all, and a checkpoint, its acknowledgements and its notification land together.
All keys a script touches share the room's hash tag."""

# KEYS: meta, stream, seen (this window), seen (previous window), dead letters
# ARGV: stream maxlen, dead maxlen, seen ttl (s), n events, n dead,
#       then n (id, payload) pairs, then n_dead (raw, reason) pairs
# Returns -1 for an unknown room, else {accepted, {0-based indexes of duplicates}}.
INGEST = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local maxlen, dead_maxlen, ttl = ARGV[1], ARGV[2], ARGV[3]
local n, n_dead = tonumber(ARGV[4]), tonumber(ARGV[5])
local duplicates = {}
local accepted = 0
local i = 6
for k = 1, n do
  local id = ARGV[i]
  if redis.call('SISMEMBER', KEYS[4], id) == 1 or redis.call('SADD', KEYS[3], id) == 0 then
    duplicates[#duplicates + 1] = k - 1
  else
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'e', ARGV[i + 1])
    accepted = accepted + 1
  end
  i = i + 2
end
if n > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
for k = 1, n_dead do
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', dead_maxlen, '*', 'raw', ARGV[i], 'reason', ARGV[i + 1])
  i = i + 2
end
return {accepted, duplicates}
"""

# KEYS: lease, checkpoint, order ledger, stream
# ARGV: owner, state, last id, consumer group, channel, message,
#       n ledger entries, n acks, then (order id, bits) pairs, then stream ids to ack
# Returns 0 when the lease is no longer ours (another worker took the room): nothing
# is written, and the caller must drop the room.
CHECKPOINT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'last_id', ARGV[3])
local n_ledger, n_ack = tonumber(ARGV[7]), tonumber(ARGV[8])
local i = 9
for k = 1, n_ledger do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for k = 1, n_ack do
  redis.call('XACK', KEYS[4], ARGV[4], ARGV[i])
  i = i + 1
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
"""

# KEYS: lease. ARGV: owner, ttl ms. Takes a free lease or renews our own.
ACQUIRE_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# KEYS: lease. ARGV: owner. Lets go of our lease on a clean shutdown.
RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
