-- One settlement: frees the lease, refunds (or charges) tokens, replaces the budget reservation with the actual
-- cost and books the actual cost in the ledger, exactly once per request id.
-- KEYS (one hash slot, {t:<tenant>}): 1 account hash of the admission's month, 2 in-flight zset, 3 booking marker
-- ARGV: 1 request id, 2 mode, 3 token delta (reserved - actual; negative charges more), 4 scope suffix, 5 day of month,
--   6 reserved estimate (nano-USD), 7 actual cost (nano-USD), 8 1 if the tenant has an in-flight cap, 9 marker ttl s,
--   10 account ttl s
-- Modes: n = admitted in Redis, first attempt: the a:<id> field gates it; if the field is gone, Redis lost its data
--            since admission, so the cost is booked once under the marker instead
--        r = a retry of n whose reply was lost: the field gates it, nothing else (the first attempt may have run)
--        u = admission outcome unknown (its reply was lost): the field gates the release of what the admission
--            holds (lease, tokens, reservation), the marker gates booking the cost; so it can be sent again later
--            (the admission may land after the first one) and books each part exactly once
--        l = ledger only (no admission in Redis): the marker gates the booking
-- Returns {0 nothing done | 1 admission settled | 2 cost booked only, sd, sm, bd, bm}
local MAX = 9007199254740991
local function int(i, lo, hi)
  local v = tonumber(ARGV[i])
  if v == nil or v ~= v or v < lo or v > hi or v ~= math.floor(v) then
    error({err = 'SLUICE_BADARG ARGV[' .. i .. '] ' .. tostring(ARGV[i])})
  end
  return v
end
local function fmt(x) return string.format('%.0f', x) end
local id, mode, s = ARGV[1], ARGV[2], ARGV[4] or ''
if id == nil or #id == 0 or #id > 256 then error({err = 'SLUICE_BADARG ARGV[1] request id'}) end
if mode ~= 'n' and mode ~= 'r' and mode ~= 'u' and mode ~= 'l' then error({err = 'SLUICE_BADARG ARGV[2] mode'}) end
if #s > 256 then error({err = 'SLUICE_BADARG ARGV[4] scope'}) end
local delta, day, est, cost = int(3, -1e15, 1e15), int(5, 1, 31), int(6, 0, MAX), int(7, 0, MAX)
local inflight, marker_ttl, ttl = int(8, 0, 1), int(9, 1, 1e9), int(10, 1, 1e9)

local acct = KEYS[1]
-- Read and check everything before the first write: a script that fails half-way keeps its writes.
local v = redis.call('HMGET', acct, 'k' .. s, 't' .. s, 'bm', 'bd' .. day, 'sm', 'sd' .. day)
local function num(x, field)
  if not x then return 0 end
  local n = tonumber(x)
  if n == nil or n ~= n or n == math.huge or n == -math.huge then
    error({err = 'SLUICE_CORRUPT ' .. acct .. ' ' .. field})
  end
  return n
end
local bm, bd, sm, sd = num(v[3], 'bm'), num(v[4], 'bd' .. day), num(v[5], 'sm'), num(v[6], 'sd' .. day)
local tokens = num(v[1], 'k' .. s)
local fresh = not v[3] and not v[5] and not v[2]

local applied = mode ~= 'l' and redis.call('HDEL', acct, 'a:' .. id) == 1
local charge -- whether the actual cost is still to be booked
if mode == 'r' then
  charge = applied
elseif mode == 'n' and applied then
  charge = true
else -- n without its field (Redis lost it), u, l: the marker decides, once
  charge = redis.call('SET', KEYS[3], '1', 'NX', 'EX', marker_ttl) ~= false
end
if not applied and not charge then return {0, 0, 0, 0, 0} end
if applied and inflight == 1 then redis.call('ZREM', KEYS[2], id) end

local reserved = applied and est or 0
local c = charge and cost or 0
bm, bd = math.max(0, bm + c - reserved), math.max(0, bd + c - reserved)
sm, sd = sm + c, sd + c
local fields = {'bm', fmt(bm), 'bd' .. day, fmt(bd), 'sm', fmt(sm), 'sd' .. day, fmt(sd)}
-- The refund goes into the stored level; the cap applies when the bucket is next read. A bucket that expired
-- (or was never written) is full anyway: nothing to refund.
if applied and delta ~= 0 and v[1] and v[2] then
  table.insert(fields, 'k' .. s); table.insert(fields, tostring(tokens + delta))
end
redis.call('HSET', acct, unpack(fields))
if fresh then redis.call('EXPIRE', acct, ttl) end
return {applied and 1 or 2, sd, sm, bd, bm}
