-- wrk script: POST a small (non-streaming) chat completion with a bearer key.
-- Env: BENCH_KEY (tenant key; ignored by the mock and HAProxy), BENCH_MODEL (model / alias name),
--      BENCH_TEMPERATURE (optional; "0" makes the request cacheable),
--      BENCH_UNIQUE=1 (append a per-request counter to the prompt, so every request has its own cache key: a true
--      cache MISS; BENCH_NONCE keeps keys of different runs apart),
--      BENCH_MIX="key,model,temperature,unique;…" (warm-up: cycle through these request kinds, one per request).
-- Without BENCH_UNIQUE / BENCH_MIX the request is built once (wrk's static fast path) and is byte-identical to the
-- original bench body. done() prints one JSON line prefixed with "RESULT " for bench/run.sh.
local key = os.getenv("BENCH_KEY") or "none"
local model = os.getenv("BENCH_MODEL") or "mock"
local temperature = os.getenv("BENCH_TEMPERATURE") or ""
local unique = os.getenv("BENCH_UNIQUE") == "1"
local nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
local mix = os.getenv("BENCH_MIX") or ""
local PROMPT = "Please answer with a short friendly greeting for the benchmark run today."

local function body(m, t, suffix)
  return '{"model":"' .. m .. '","messages":[{"role":"user","content":"' .. PROMPT .. (suffix or "") .. '"}]'
    .. (t ~= "" and (',"temperature":' .. t) or "") .. '}'
end

wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = body(model, temperature)

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
if unique or mix ~= "" then
  local kinds = {}
  if mix ~= "" then
    for entry in string.gmatch(mix, "[^;]+") do
      local f = {}
      for field in string.gmatch(entry .. ",", "([^,]*),") do f[#f + 1] = field end
      kinds[#kinds + 1] = { model = f[2], temperature = f[3] or "", unique = f[4] == "1",
        headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. f[1] } }
    end
  else
    kinds[1] = { model = model, temperature = temperature, unique = true, headers = nil }
  end
  function request()
    counter = counter + 1
    local k = kinds[(counter % #kinds) + 1]
    local suffix = k.unique and (" #" .. nonce .. "-" .. tostring(tid) .. "-" .. counter) or nil
    return wrk.format(nil, nil, k.headers, body(k.model, k.temperature, suffix))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"p999_us":%.0f,'
    .. '"mean_us":%.1f,"max_us":%.0f,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
