// k6 load test for Sluice (k6 run load-tests/k6/sluice.js). Environment:
//   SLUICE_URL   base URL, default http://127.0.0.1:8080/v1
//   SLUICE_KEY   a tenant key (required)
//   SLUICE_MODEL alias to call, default mock (the built-in mock provider)
//   LIMITED_KEY  optional: a key of a tenant with a low requests-per-minute limit, for the `limits` scenario
//   RATE         requests/s of the chat scenario (default 50); streams run at RATE × 0.7
// Scenarios: steady non-streaming chat, steady streams (whole SSE body: k6 does not expose chunks, so TTFT is
// approximated by time to first byte), a spike, and (with LIMITED_KEY) a tenant over its limit that must get 429s
// with retry-after, never 5xx. Thresholds fail the run when the gateway misbehaves.
import http from 'k6/http';
import { check } from 'k6';
import { Rate, Trend } from 'k6/metrics';

const BASE = __ENV.SLUICE_URL || 'http://127.0.0.1:8080/v1';
const KEY = __ENV.SLUICE_KEY;
const MODEL = __ENV.SLUICE_MODEL || 'mock';
const RATE = Number(__ENV.RATE || 50);

const streamComplete = new Rate('sluice_stream_complete');
const streamTtfb = new Trend('sluice_stream_ttfb', true);
const limitedAnswered = new Rate('sluice_limited_well_formed');

const scenarios = {
  chat: { executor: 'constant-arrival-rate', exec: 'chat', rate: RATE, timeUnit: '1s', duration: '2m',
    preAllocatedVUs: 50, maxVUs: 500 },
  stream: { executor: 'constant-arrival-rate', exec: 'stream', rate: Math.max(1, Math.round(RATE * 0.7)),
    timeUnit: '1s', duration: '2m', preAllocatedVUs: 50, maxVUs: 1000 },
  spike: { executor: 'ramping-arrival-rate', exec: 'chat', startRate: RATE, timeUnit: '1s', startTime: '2m',
    preAllocatedVUs: 100, maxVUs: 2000,
    stages: [ { target: RATE * 10, duration: '20s' }, { target: RATE * 10, duration: '40s' }, { target: RATE, duration: '20s' } ] },
};
if (__ENV.LIMITED_KEY) {
  scenarios.limits = { executor: 'constant-arrival-rate', exec: 'limited', rate: 20, timeUnit: '1s', duration: '1m',
    preAllocatedVUs: 10, maxVUs: 100 };
}

export const options = {
  scenarios,
  thresholds: {
    'http_req_failed{scenario:chat}': ['rate<0.001'],
    'http_req_duration{scenario:chat}': ['p(99)<2000'],
    'http_req_failed{scenario:spike}': ['rate<0.01'],
    sluice_stream_complete: ['rate>0.999'],
    sluice_stream_ttfb: ['p(99)<1000'],
    sluice_limited_well_formed: ['rate>0.999'],
  },
};

function body(stream) {
  return JSON.stringify({ model: MODEL, stream, messages: [{ role: 'user', content: `k6 ${__VU}-${__ITER}: say hello.` }],
    ...(stream ? { stream_options: { include_usage: true } } : {}) });
}

function post(key, stream) {
  return http.post(`${BASE}/chat/completions`, body(stream),
    { headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, timeout: '120s' });
}

export function chat() {
  const res = post(KEY, false);
  check(res, { 'chat 200 with choices': (r) => r.status === 200 && r.json('choices.0.message') !== undefined });
}

export function stream() {
  const res = post(KEY, true);
  const text = res.body || '';
  const complete = res.status === 200 && text.trimEnd().endsWith('data: [DONE]') && !text.includes('stream_interrupted');
  streamComplete.add(complete);
  streamTtfb.add(res.timings.waiting);
  check(res, { 'stream ends with [DONE]': () => complete });
}

export function limited() {
  const res = post(__ENV.LIMITED_KEY, false);
  const wellFormed = res.status === 200
    || (res.status === 429 && res.headers['Retry-After'] !== undefined && res.json('error.type') !== undefined);
  limitedAnswered.add(wellFormed);
  check(res, { 'limited: 200, or 429 with retry-after': () => wellFormed });
}
