-- Renews the leases of requests still running on this replica and drops expired ones (a crashed replica's).
-- KEYS: 1 in-flight zset. ARGV: 1 lease ms, 2.. request ids. Returns the number of leases renewed.
local lease = tonumber(ARGV[1])
if lease == nil or lease ~= lease or lease < 1 or lease > 864e5 or lease ~= math.floor(lease) then
  error({err = 'SLUICE_BADARG ARGV[1] ' .. tostring(ARGV[1])})
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
if #ARGV < 2 then return 0 end
local args = {'XX', 'CH'}
for i = 2, #ARGV do
  table.insert(args, string.format('%.0f', now + lease)); table.insert(args, ARGV[i])
end
local renewed = redis.call('ZADD', KEYS[1], unpack(args))
redis.call('PEXPIRE', KEYS[1], lease)
return renewed
