-- Reserves an estimated cost against a tenant's daily and monthly caps, all or nothing.
-- KEYS (one hash slot): 1 day spend, 2 month spend (integers, nano-USD)
-- ARGV: 1 day cap (-1 = none), 2 month cap (-1 = none), 3 estimate, 4 day ttl s, 5 month ttl s
-- Returns {allowed, day spent after, month spent after}
local function spent(key)
  local v = redis.call('GET', KEYS[key])
  if not v then return 0 end
  local n = tonumber(v)
  if n == nil then return redis.error_reply('SLUICE_CORRUPT ' .. KEYS[key]) end
  return n
end
local day, month = spent(1), spent(2)
if type(day) == 'table' then return day end
if type(month) == 'table' then return month end
local day_cap, month_cap, est = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if (day_cap >= 0 and day + est > day_cap) or (month_cap >= 0 and month + est > month_cap) then
  return {0, day, month}
end
day = redis.call('INCRBY', KEYS[1], est)
month = redis.call('INCRBY', KEYS[2], est)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
return {1, day, month}
