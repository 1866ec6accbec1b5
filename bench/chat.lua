-- wrk script: POST a small (non-streaming) chat completion with a bearer key.
-- Env: BENCH_KEY (tenant key; ignored by the mock and HAProxy), BENCH_MODEL (model / alias name).
-- done() prints one JSON line prefixed with "RESULT " for bench/run.sh.
local key = os.getenv("BENCH_KEY") or "none"
local model = os.getenv("BENCH_MODEL") or "mock"

wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"user","content":'
  .. '"Please answer with a short friendly greeting for the benchmark run today."}]}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"p999_us":%.0f,'
    .. '"mean_us":%.1f,"max_us":%.0f,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
