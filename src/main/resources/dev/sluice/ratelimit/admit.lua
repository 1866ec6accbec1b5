-- One admission, all or nothing: request bucket, token bucket, in-flight lease and budget reservation.
-- KEYS (one hash slot, {t:<tenant>}): 1 the tenant's account hash for this month, 2 last month's account hash
--   (read only when this month has no bucket yet), 3 in-flight zset (member request id, score lease expiry ms)
-- Account fields: r<s> k<s> t<s> request level, token level, last update ms of bucket <s> (scope suffix);
--   bm / bd<dd> budget spent incl. open reservations (month / day, nano-USD); sm / sd<dd> settled spend (the ledger);
--   a:<request id> one open admission (removed by settlement; its presence makes settlement idempotent).
-- ARGV: 1 requests/min (0 = none), 2 tokens/min (0 = none), 3 token cost, 4 max in flight (0 = none), 5 request id,
--   6 lease ms, 7 request burst, 8 token burst, 9 scope suffix, 10 day of month, 11 day cap (-1 = none),
--   12 month cap (-1 = none), 13 estimated cost, 14 account ttl s, 15..18 seeds for bd, bm, sd, sm (the spend this
--   replica last saw: restores a budget when Redis lost its data; used only when the account has no budget fields)
-- Returns {denial (0 ok, 1 requests, 2 tokens, 3 concurrency, 4 larger than the bucket, 5 budget), req remaining,
--   req reset ms, tok remaining, tok reset ms, retry after ms, bd, bm, sd, sm}
-- Every argument is checked: a bad one is an error reply starting SLUICE_BADARG (our bug, not Redis unavailability).
local MAX = 9007199254740991 -- 2^53 - 1: beyond it a Lua number is no longer an exact integer
local function int(i, lo, hi)
  local v = tonumber(ARGV[i])
  if v == nil or v ~= v or v < lo or v > hi or v ~= math.floor(v) then
    error({err = 'SLUICE_BADARG ARGV[' .. i .. '] ' .. tostring(ARGV[i])})
  end
  return v
end
local function fmt(x) return string.format('%.0f', x) end -- integers as digits, never 1e+15
local function str(i, max)
  local v = ARGV[i]
  if v == nil or #v > max then error({err = 'SLUICE_BADARG ARGV[' .. i .. ']'}) end
  return v
end
local rpm, tpm, cost = int(1, 0, 1e12), int(2, 0, 1e15), int(3, 0, 1e15)
local max_inflight, id, lease = int(4, 0, 1e9), str(5, 256), int(6, 1, 864e5)
local req_cap, tok_cap, s, day = int(7, 0, 1e12), int(8, 0, 1e15), str(9, 256), int(10, 1, 31)
local day_cap, month_cap, est, ttl = int(11, -1, MAX), int(12, -1, MAX), int(13, 0, MAX), int(14, 1, 1e9)
local seed_bd, seed_bm, seed_sd, seed_sm = int(15, 0, MAX), int(16, 0, MAX), int(17, 0, MAX), int(18, 0, MAX)
if #id == 0 then error({err = 'SLUICE_BADARG ARGV[5] empty request id'}) end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local WINDOW = 60000
local acct = KEYS[1]
local v = redis.call('HMGET', acct, 'r' .. s, 'k' .. s, 't' .. s, 'bm', 'bd' .. day, 'sm', 'sd' .. day)
local fresh = not v[1] and not v[2] and not v[3] and not v[4] and not v[6]
if (rpm > 0 or tpm > 0) and not v[3] then
  local last = redis.call('HMGET', KEYS[2], 'r' .. s, 'k' .. s, 't' .. s) -- carry the bucket over a month change
  v[1], v[2], v[3] = last[1], last[2], last[3]
end

local function num(x, field)
  if not x then return nil end
  local n = tonumber(x)
  if n == nil or n ~= n or n == math.huge or n == -math.huge then
    error({err = 'SLUICE_CORRUPT ' .. acct .. ' ' .. field})
  end
  return n
end
local ts = num(v[3], 't' .. s)
local function level(x, field, rate, cap)
  if rate <= 0 then return 0 end
  local tokens = num(x, field)
  if tokens == nil or ts == nil then return cap end
  return math.min(cap, tokens + math.max(0, now - ts) * rate / WINDOW)
end
local req = level(v[1], 'r' .. s, rpm, req_cap)
local tok = level(v[2], 'k' .. s, tpm, tok_cap)
-- A missing month total while this replica saw spend means Redis lost its data: take the larger.
local bm, bd = num(v[4], 'bm'), num(v[5], 'bd' .. day)
local sm, sd = num(v[6], 'sm'), num(v[7], 'sd' .. day)
local seeded = false
if bm == nil and seed_bm > 0 then bm, bd, sm, sd, seeded = seed_bm, math.max(bd or 0, seed_bd), math.max(sm or 0, seed_sm), math.max(sd or 0, seed_sd), true end
bm, bd, sm, sd = bm or 0, bd or 0, sm or 0, sd or 0

local function reset_ms(tokens, rate, cap)
  if rate <= 0 then return 0 end
  return math.ceil(math.max(0, cap - tokens) * WINDOW / rate)
end

local denied, retry = 0, 0
if max_inflight > 0 and redis.call('ZCOUNT', KEYS[3], now, '+inf') >= max_inflight then denied, retry = 3, 1000 end
if denied == 0 and rpm > 0 and req < 1 then
  denied, retry = 1, math.ceil((1 - req) * WINDOW / rpm)
end
if denied == 0 and tpm > 0 then
  if cost > tok_cap then
    denied, retry = 4, 0
  elseif tok < cost then
    denied, retry = 2, math.ceil((cost - tok) * WINDOW / tpm)
  end
end
if denied == 0 and ((day_cap >= 0 and bd + est > day_cap) or (month_cap >= 0 and bm + est > month_cap)) then
  denied = 5
end

if denied == 0 then
  local fields = {'a:' .. id, '1'}
  if rpm > 0 then req = req - 1 end
  if tpm > 0 then tok = tok - cost end
  if rpm > 0 or tpm > 0 then
    table.insert(fields, 'r' .. s); table.insert(fields, tostring(req))
    table.insert(fields, 'k' .. s); table.insert(fields, tostring(tok))
    table.insert(fields, 't' .. s); table.insert(fields, fmt(now))
  end
  bm, bd = bm + est, bd + est
  if est > 0 or seeded then
    table.insert(fields, 'bm'); table.insert(fields, fmt(bm))
    table.insert(fields, 'bd' .. day); table.insert(fields, fmt(bd))
  end
  if seeded then
    table.insert(fields, 'sm'); table.insert(fields, fmt(sm))
    table.insert(fields, 'sd' .. day); table.insert(fields, fmt(sd))
  end
  redis.call('HSET', acct, unpack(fields))
  if fresh then redis.call('EXPIRE', acct, ttl) end
  if max_inflight > 0 then
    redis.call('ZADD', KEYS[3], fmt(now + lease), id)
    redis.call('PEXPIRE', KEYS[3], lease)
  end
elseif seeded then
  redis.call('HSET', acct, 'bm', fmt(bm), 'bd' .. day, fmt(bd), 'sm', fmt(sm), 'sd' .. day, fmt(sd))
  if fresh then redis.call('EXPIRE', acct, ttl) end
end
return {denied, math.floor(math.max(0, req)), reset_ms(req, rpm, req_cap), math.floor(math.max(0, tok)),
        reset_ms(tok, tpm, tok_cap), retry, bd, bm, sd, sm}
