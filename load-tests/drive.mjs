#!/usr/bin/env node
// Open-loop load driver for machines without k6 (Node 20+, no dependencies). Requests leave on schedule whatever the
// answers do, so a slow gateway shows up as latency, not as a lower offered rate (no coordinated omission).
//
//   node load-tests/drive.mjs --url http://127.0.0.1:8080/v1 --key sk-... --model mock \
//        --rate 50 --duration 60 --stream 0.7 --max-error-rate 0.001 --max-p99-ms 2000 --max-ttft-p99-ms 500
//
// Prints one JSON summary line (prefixed "RESULT ") and exits 1 when a threshold fails, 2 on bad arguments.
// Streams (a --stream share of requests, stream: true with include_usage) count as ok only when they end with
// `data: [DONE]` and carry no error event; TTFT is the time to the first `data:` line.

const args = parseArgs(process.argv.slice(2));
const url = required('url').replace(/\/$/, '') + '/chat/completions';
const key = required('key');
const model = args.model ?? 'mock';
const rate = number('rate', 20);
const duration = number('duration', 10);
const streamShare = number('stream', 0);
const maxInFlight = number('max-inflight', 2000);
const thresholds = {
  errorRate: args['max-error-rate'] === undefined ? null : number('max-error-rate'),
  p99: args['max-p99-ms'] === undefined ? null : number('max-p99-ms'),
  ttftP99: args['max-ttft-p99-ms'] === undefined ? null : number('max-ttft-p99-ms'),
};

const latencies = [];
const ttfts = [];
const statuses = {};
let sent = 0, done = 0, ok = 0, failed = 0, skipped = 0, inFlight = 0;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) usage(`unexpected argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
    i++;
  }
  return out;
}
function usage(problem) {
  console.error(`drive.mjs: ${problem}\nusage: node load-tests/drive.mjs --url BASE --key KEY [--model M] [--rate N/s]`
    + ' [--duration S] [--stream 0..1] [--max-inflight N] [--max-error-rate F] [--max-p99-ms MS] [--max-ttft-p99-ms MS]');
  process.exit(2);
}
function required(name) {
  if (!args[name]) usage(`--${name} is required`);
  return args[name];
}
function number(name, fallback) {
  if (args[name] === undefined) return fallback;
  const n = Number(args[name]);
  if (!Number.isFinite(n) || n < 0) usage(`--${name} ${args[name]} (expected: a non-negative number)`);
  return n;
}
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function one(stream) {
  const start = performance.now();
  let status = 'error';
  let good = false;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model, stream, messages: [{ role: 'user', content: `Load test ${sent}: say hello.` }],
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      }),
    });
    status = String(response.status);
    if (!stream) {
      const body = await response.json();
      good = response.status === 200 && Array.isArray(body.choices);
    } else {
      const decoder = new TextDecoder();
      let text = '';
      let first = null;
      for await (const chunk of response.body) {
        text += decoder.decode(chunk, { stream: true });
        if (first === null && text.includes('data:')) first = performance.now() - start;
      }
      if (first !== null) ttfts.push(first);
      good = response.status === 200 && text.trimEnd().endsWith('data: [DONE]') && !text.includes('"error"');
    }
  } catch (e) {
    status = 'error';
  }
  statuses[status] = (statuses[status] ?? 0) + 1;
  latencies.push(performance.now() - start);
  if (good) ok++; else failed++;
  done++;
}

const total = Math.round(rate * duration);
const t0 = performance.now();
await new Promise((resolve) => {
  const pending = [];
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    while (sent < due) {
      sent++;
      if (inFlight >= maxInFlight) { skipped++; continue; } // the gateway is far behind: count, don't pile on
      inFlight++;
      const stream = Math.random() < streamShare;
      pending.push(one(stream).finally(() => inFlight--));
    }
    if (sent >= total) {
      clearInterval(timer);
      Promise.allSettled(pending).then(resolve);
    }
  }, 5);
});
const elapsed = (performance.now() - t0) / 1000;

const summary = {
  offered_rate: rate, seconds: Number(elapsed.toFixed(2)), requests: sent, completed: done, ok, failed, skipped,
  error_rate: done === 0 ? 0 : Number(((failed + skipped) / sent).toFixed(5)), statuses,
  latency_ms: { p50: round(percentile(latencies, 50)), p90: round(percentile(latencies, 90)), p99: round(percentile(latencies, 99)) },
  ttft_ms: { streams: ttfts.length, p50: round(percentile(ttfts, 50)), p99: round(percentile(ttfts, 99)) },
};
const failures = [];
if (thresholds.errorRate !== null && summary.error_rate > thresholds.errorRate) failures.push(`error rate ${summary.error_rate} > ${thresholds.errorRate}`);
if (thresholds.p99 !== null && (summary.latency_ms.p99 ?? Infinity) > thresholds.p99) failures.push(`p99 ${summary.latency_ms.p99} ms > ${thresholds.p99} ms`);
if (thresholds.ttftP99 !== null && (summary.ttft_ms.p99 ?? Infinity) > thresholds.ttftP99) failures.push(`TTFT p99 ${summary.ttft_ms.p99} ms > ${thresholds.ttftP99} ms`);
summary.thresholds_failed = failures;
console.log('RESULT ' + JSON.stringify(summary));
process.exit(failures.length === 0 ? 0 : 1);

function round(x) {
  return x === null ? null : Number(x.toFixed(2));
}
