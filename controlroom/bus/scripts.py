"""Lua scripts: each runs atomically in Redis, so a batch is either wholly written or
not at all, and a read, a checkpoint, its acknowledgements and its notification happen
only while the caller holds the room's lease. All keys a script touches share the
room's hash tag.

The backlog counter (accepted but not yet applied) is raised by INGEST and lowered by
CHECKPOINT in the same atomic steps that add and apply entries, so it is exact. Ingest
refuses a batch that would push it past the limit. Ingest never trims the stream: the
recorder (controlroom/reports/recorder.py) does, and only below what is both applied and
recorded.
"""

# KEYS: meta, stream, seen (this window), seen (previous window), dead letters, backlog,
#       API keys, source arrivals
# ARGV: dead maxlen, seen ttl (s), backlog limit,
#       event ids (a JSON array), event payloads (canonical JSON, one a line),
#       dead letters (a JSON array of [raw, reason] pairs), sha256 of the sender's key,
#       the batch's sources (a JSON array), the most sources a room keeps
# A source is heard whenever it sends, repeats included (a source that resends is alive),
# at Redis's own time, the clock stream ids are read on.
# Two blobs instead of two arguments per event: packing thousands of arguments costs
# the client more than the script spends splitting them. Canonical JSON never holds a
# raw newline, so a line is exactly one payload.
# Returns -3 for a key that is not valid for this room (checked first: an unknown room
# has no valid key, so a sender learns nothing about other rooms), -1 for an unknown
# room, -2 when the backlog is full (nothing written), else
# {accepted, {0-based indexes of duplicates}}.
INGEST = """
if redis.call('HEXISTS', KEYS[7], ARGV[7]) == 0 then return -3 end
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local dead_maxlen, ttl = ARGV[1], ARGV[2]
local ids = cjson.decode(ARGV[4])
if tonumber(redis.call('GET', KEYS[6]) or '0') + #ids > tonumber(ARGV[3]) then return -2 end
local duplicates = {}
local accepted = 0
local k = 0
for payload in string.gmatch(ARGV[5], '[^\\n]+') do
  k = k + 1
  local id = ids[k]
  if redis.call('SISMEMBER', KEYS[4], id) == 1 or redis.call('SADD', KEYS[3], id) == 0 then
    duplicates[#duplicates + 1] = k - 1
  else
    redis.call('XADD', KEYS[2], '*', 'e', payload)
    accepted = accepted + 1
  end
end
if k > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
if accepted > 0 then redis.call('INCRBY', KEYS[6], accepted) end
for _, item in ipairs(cjson.decode(ARGV[6])) do
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', dead_maxlen, '*', 'raw', item[1], 'reason', item[2])
end
local sources = cjson.decode(ARGV[8])
if #sources > 0 then
  local now = redis.call('TIME')
  local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
  for _, source in ipairs(sources) do
    if redis.call('HEXISTS', KEYS[8], source) == 1 or redis.call('HLEN', KEYS[8]) < tonumber(ARGV[9]) then
      redis.call('HSET', KEYS[8], source, now_ms)
    end
  end
end
return {accepted, duplicates}
"""

# KEYS: lease, stream. ARGV: owner, group, consumer, count.
# New entries for the lease holder, or 0 when the lease is not ours. Fencing the read
# matters: a worker that lost its lease without noticing must not take entries out of
# the group's reach of the new holder.
READ = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], '>')
if not reply then return {} end
return reply[1][2]
"""

# KEYS: lease, stream. ARGV: owner, group, consumer, cursor, count.
# {next cursor, entries} of pending entries now claimed by the lease holder, or 0 when
# the lease is not ours.
CLAIM = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local reply = redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, ARGV[4], 'COUNT', ARGV[5])
return {reply[1], reply[2]}
"""

# KEYS: lease, checkpoint, order ledger, stream, backlog, then the distinct-user sets
# ARGV: owner, state, last id, consumer group, channel, message,
#       ledger changes (a JSON object: order id -> status bits, or "{}"),
#       stream ids to acknowledge (space-separated), number of entries newly applied,
#       then for each user set a JSON array of the user ids this batch saw,
#       then the per-minute key prefix, a JSON array of [minute, set, [user ids]],
#       the per-minute keys' lifetime (s), and the room's minute-distinct hash. (Per-minute
#       keys and that hash carry the room's hash tag but are named here, not in KEYS:
#       there is one per minute.) A minute that gets people is dropped from the hash, so
#       its counts are taken again: late events are counted, never frozen out.
# Returns 0 when the lease is no longer ours (another worker took the room): nothing
# is written, and the caller must drop the room.
CHECKPOINT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'last_id', ARGV[3])
for order_id, bits in pairs(cjson.decode(ARGV[7])) do
  redis.call('HSET', KEYS[3], order_id, bits)
end
for entry_id in string.gmatch(ARGV[8], '%S+') do
  redis.call('XACK', KEYS[4], ARGV[4], entry_id)
end
if tonumber(ARGV[9]) > 0 then redis.call('DECRBY', KEYS[5], ARGV[9]) end
local n_sets = #KEYS - 5
for i = 6, #KEYS do
  local users = cjson.decode(ARGV[i + 4])
  -- Several members a call (unpack has a stack limit, hence the chunks).
  for first = 1, #users, 500 do
    redis.call('SADD', KEYS[i], unpack(users, first, math.min(first + 499, #users)))
  end
end
local base = 10 + n_sets
for _, item in ipairs(cjson.decode(ARGV[base + 1])) do
  local key = ARGV[base] .. item[2] .. ':' .. string.format('%d', item[1])
  local users = item[3]
  for first = 1, #users, 500 do
    redis.call('PFADD', key, unpack(users, first, math.min(first + 499, #users)))
  end
  redis.call('EXPIRE', key, ARGV[base + 2])
  redis.call('HDEL', ARGV[base + 3], string.format('%d', item[1]))
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
"""

# KEYS: lease, checkpoint, minute-distinct hash, then the user sets.
# ARGV: owner, the fresh state, updates channel, message.
# A new show starts from zero: the state is replaced (the last applied id stays, so
# nothing is applied twice) and the show's distinct people start over, all at once.
RESET = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[2])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
"""

# KEYS: API keys, their snapshot time. ARGV: snapshot time (ms), then the key hashes.
# Replaces the set unless a later snapshot is already published. Returns 1 if written.
PUBLISH_KEYS = """
if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
for i = 2, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], 1) end
redis.call('SET', KEYS[2], ARGV[1])
return 1
"""

# KEYS: lease. ARGV: owner, ttl ms, a holder known to be dead (or '').
# Takes a free lease, renews our own, or takes the lease from that dead holder (its
# process is gone: no need to wait for the lease to run out). Returns {1} when the
# lease is ours, else {0, holder, milliseconds it still has}.
ACQUIRE_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] or holder == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1}
end
return {0, holder, redis.call('PTTL', KEYS[1])}
"""

# KEYS: lease. ARGV: owner, ttl ms. Extends our lease; never takes a free one, so a
# renewal that crosses a hand-back cannot take the room again. Returns 0 when the lease
# is no longer ours (expired or taken).
RENEW_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS: lease. ARGV: owner. Lets go of our lease on a clean shutdown.
RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Heartbeats are scored by Redis's clock, the one that expires the leases: workers on
# other machines may disagree about the time, and a dead worker's heartbeat must run out
# no later than the leases renewed with it (or it would still hold the fair share down).

# KEYS: workers. ARGV: worker, ttl ms. This worker is alive for ttl ms more.
HEARTBEAT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], string.format('%d', now_ms + tonumber(ARGV[2])), ARGV[1])
return 1
"""

# KEYS: workers. Forgets the workers whose heartbeat ran out; returns the others as
# {worker, milliseconds left, ...}.
LIVE_WORKERS = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now_ms))
local live = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 2, #live, 2 do live[i] = tonumber(live[i]) - now_ms end
return live
"""
