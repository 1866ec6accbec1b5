-- Atomic admission for one tenant: request bucket, token bucket and in-flight lease set, all or nothing.
-- KEYS (one hash slot: {t:<tenant>}): 1 request bucket, 2 token bucket, 3 in-flight zset
-- ARGV: 1 requests/min (0 = none), 2 tokens/min (0 = none), 3 token cost, 4 max in flight (0 = none),
--       5 request id, 6 lease ms, 7 bucket ttl ms, 8 request burst, 9 token burst
-- Returns {allowed, denied (0 ok, 1 requests, 2 tokens, 3 concurrency, 4 larger than the bucket),
--          req remaining, req reset ms, tok remaining, tok reset ms, retry after ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local WINDOW = 60000
local rpm, tpm, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_inflight, id, lease, ttl = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local req_cap, tok_cap = tonumber(ARGV[8]), tonumber(ARGV[9])

local function level(key, rate, cap)
  if rate <= 0 then return 0 end
  local v = redis.call('HMGET', key, 'tokens', 'ts')
  if not v[1] and not v[2] then return cap end
  local tokens, ts = tonumber(v[1]), tonumber(v[2])
  if tokens == nil or ts == nil then return redis.error_reply('SLUICE_CORRUPT ' .. key) end
  return math.min(cap, tokens + math.max(0, now - ts) * rate / WINDOW)
end

local function reset_ms(tokens, rate, cap)
  if rate <= 0 then return 0 end
  return math.ceil(math.max(0, cap - tokens) * WINDOW / rate)
end

local req = level(KEYS[1], rpm, req_cap)
if type(req) == 'table' then return req end
local tok = level(KEYS[2], tpm, tok_cap)
if type(tok) == 'table' then return tok end

local denied, retry = 0, 0
if max_inflight > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - lease)
  if redis.call('ZCARD', KEYS[3]) >= max_inflight then denied, retry = 3, 1000 end
end
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

if denied == 0 then
  if rpm > 0 then
    req = req - 1
    redis.call('HSET', KEYS[1], 'tokens', tostring(req), 'ts', now)
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  if tpm > 0 then
    tok = tok - cost
    redis.call('HSET', KEYS[2], 'tokens', tostring(tok), 'ts', now)
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
  if max_inflight > 0 then
    redis.call('ZADD', KEYS[3], now, id)
    redis.call('PEXPIRE', KEYS[3], lease)
  end
end
return {denied == 0 and 1 or 0, denied, math.floor(math.max(0, req)), reset_ms(req, rpm, req_cap),
        math.floor(math.max(0, tok)), reset_ms(tok, tpm, tok_cap), retry}
