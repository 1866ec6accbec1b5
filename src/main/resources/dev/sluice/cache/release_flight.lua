-- Releases a cache fleet lock only if this replica still holds it (it may have expired and been taken by another).
-- KEYS[1] = sluice:flight:v1:{t:<tenant>}:<key>, ARGV[1] = the holding replica's id
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
