-- Heartbeat of one replica; returns how many replicas beat within the last ttl ms (this one included).
-- KEYS: 1 replica zset (member replica id, score last beat ms). ARGV: 1 replica id, 2 ttl ms.
local ttl = tonumber(ARGV[2])
if ARGV[1] == nil or #ARGV[1] == 0 or #ARGV[1] > 256 or ttl == nil or ttl ~= ttl or ttl < 1 or ttl > 864e5
    or ttl ~= math.floor(ttl) then
  error({err = 'SLUICE_BADARG replica heartbeat'})
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - ttl))
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
