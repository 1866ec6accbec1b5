-- Settles one admitted request: returns unused reserved tokens (or charges the overshoot) and frees its lease.
-- KEYS (one hash slot): 1 token bucket, 2 in-flight zset
-- ARGV: 1 tokens/min (0 = none), 2 token delta (reserved - actual; negative charges more), 3 request id,
--       4 bucket ttl ms, 5 token burst (bucket capacity)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tpm, delta, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[5])
if tpm > 0 and delta ~= 0 then
  local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
  local tokens, ts = tonumber(v[1]), tonumber(v[2])
  if tokens == nil or ts == nil then
    tokens, ts = cap, now
  end
  tokens = math.min(cap, tokens + math.max(0, now - ts) * tpm / 60000 + delta)
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
end
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
