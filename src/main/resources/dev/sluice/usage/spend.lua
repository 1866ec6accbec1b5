-- Books one request's cost exactly once. KEYS (one slot): 1 seen marker for the request id, 2 day total, 3 month total
-- ARGV: 1 cost in nano-USD, 2 marker ttl s, 3 day ttl s, 4 month ttl s. Returns 1 if booked, 0 if already booked.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then return 0 end
redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
redis.call('INCRBY', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[4]))
return 1
