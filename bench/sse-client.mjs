// Streaming load driver (wrk cannot do SSE). Opens N chat-completion streams (stream: true) against one target,
// spreading the starts over --ramp-ms, and prints one JSON line with:
//   ok / errors (a stream is an error unless it is HTTP 200 and ends with `data: [DONE]`),
//   TTFB (response headers) and TTFT (first `data:` bytes) percentiles in ms, total stream time,
//   SSE events per stream, the peak number of streams open at once, and (with --rss-pid) the peak VmRSS of a process.
// Usage: node sse-client.mjs --url http://127.0.0.1:PORT/v1/chat/completions --key K --model M --n 1000
//          [--ramp-ms 1000] [--timeout-ms 30000] [--rss-pid PID] [--label NAME]
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const opts = { url: '', key: 'none', model: 'mock', n: 100, 'ramp-ms': 0, 'timeout-ms': 30000, 'rss-pid': 0, label: '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const name = process.argv[i].replace(/^--/, '');
  if (!(name in opts)) { console.error(`unknown option --${name}`); process.exit(2); }
  opts[name] = typeof opts[name] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const url = new URL(opts.url);
const body = JSON.stringify({
  model: opts.model, stream: true, stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'Please answer with a short friendly greeting for the benchmark run today.' }],
});
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

let open = 0, maxOpen = 0, rssMax = 0, rssStart = opts['rss-pid'] ? rssKb(opts['rss-pid']) : 0;
const sampler = opts['rss-pid'] ? setInterval(() => { rssMax = Math.max(rssMax, rssKb(opts['rss-pid'])); }, 100) : null;

function one() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let ttfb = null, ttft = null, status = 0, text = '', done = false;
    open++; maxOpen = Math.max(maxOpen, open);
    const finish = (error) => {
      if (done) return;
      done = true; open--;
      clearTimeout(timer);
      const total = performance.now() - t0;
      const events = (text.match(/^data: /gm) || []).length;
      let err = error ? (error.code || error.message) : null;
      if (!err && status !== 200) err = `status_${status}`;
      if (!err && !text.includes('data: [DONE]')) err = 'no_done';
      resolve({ ok: !err, err, ttfb, ttft, total, events });
    };
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'authorization': `Bearer ${opts.key}`,
                 'accept': 'text/event-stream', 'content-length': Buffer.byteLength(body) },
    });
    const timer = setTimeout(() => { req.destroy(new Error('timeout')); }, opts['timeout-ms']);
    req.on('response', (res) => {
      status = res.statusCode;
      ttfb = performance.now() - t0;
      res.setEncoding('utf8');
      res.on('data', (d) => {
        if (ttft === null && d.includes('data:')) ttft = performance.now() - t0;
        text += d;
      });
      res.on('end', () => finish(null));
      res.on('error', finish);
      res.on('aborted', () => finish(new Error('aborted')));
    });
    req.on('error', finish);
    req.end(body);
  });
}

const pct = (arr, p) => {
  if (!arr.length) return null;
  const a = [...arr].sort((x, y) => x - y);
  return +a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))].toFixed(3);
};

const started = performance.now();
const runs = [];
for (let i = 0; i < opts.n; i++) {
  const delay = opts.n > 1 ? (i * opts['ramp-ms']) / opts.n : 0;
  runs.push(new Promise((r) => setTimeout(() => one().then(r), delay)));
}
const results = await Promise.all(runs);
if (sampler) { clearInterval(sampler); rssMax = Math.max(rssMax, rssKb(opts['rss-pid'])); }
const ok = results.filter((r) => r.ok);
const errors = {};
for (const r of results) if (!r.ok) errors[r.err] = (errors[r.err] || 0) + 1;
const ttft = ok.map((r) => r.ttft), ttfb = ok.map((r) => r.ttfb), total = ok.map((r) => r.total);
const events = ok.map((r) => r.events);
console.log('RESULT ' + JSON.stringify({
  label: opts.label, n: opts.n, ok: ok.length, errors: results.length - ok.length, error_kinds: errors,
  max_open: maxOpen, wall_ms: +(performance.now() - started).toFixed(0),
  ttfb_p50_ms: pct(ttfb, 50), ttft_p50_ms: pct(ttft, 50), ttft_p90_ms: pct(ttft, 90), ttft_p99_ms: pct(ttft, 99),
  ttft_max_ms: pct(ttft, 100), total_p50_ms: pct(total, 50), total_p99_ms: pct(total, 99),
  events_min: events.length ? Math.min(...events) : null, events_max: events.length ? Math.max(...events) : null,
  rss_start_kb: rssStart || null, rss_max_kb: rssMax || null,
}));
