-- Takes the cache fleet lock for this replica, idempotently: the retry of a SET NX whose reply was lost finds the lock
-- it took itself and keeps it (a second plain SET NX would take it for another replica's and wait for itself).
-- KEYS[1] = sluice:flight:v1:{t:<tenant>}:<key>, ARGV[1] = this replica's id, ARGV[2] = lock TTL in ms.
-- Returns 1 when this replica holds the lock, 0 when another one does.
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then return 1 end
return 0
