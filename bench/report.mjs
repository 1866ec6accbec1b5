// Turns bench/run.sh's raw.jsonl + meta.json into the Markdown results (stdout).
// Overheads are target − direct in the same run; ratios are against HAProxy in the same run.
import { readFileSync } from 'node:fs';

const [rawFile, metaFile, gcFile] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
const wrk = {}, sse = {}, notes = {}, cases = {}, redisBench = {}, tokens = [];
for (const line of readFileSync(rawFile, 'utf8').split('\n').filter(Boolean)) {
  const r = JSON.parse(line);
  if (r.kind === 'wrk') {
    const prev = wrk[r.scenario]?.[r.target];
    if (prev) { // several rounds of one scenario (P1): add up counts and CPU; latencies are the rounds' mean
      const a = prev.wrk, b = r.wrk, rounds = (prev.rounds ?? 1) + 1;
      for (const k of ['requests', 'duration_us', 'err_connect', 'err_read', 'err_write', 'err_status', 'err_timeout']) a[k] += b[k];
      for (const k of ['p50_us', 'p90_us', 'p99_us', 'p999_us', 'mean_us']) a[k] = (a[k] * (rounds - 1) + b[k]) / rounds;
      a.max_us = Math.max(a.max_us, b.max_us);
      a.rps = a.requests / (a.duration_us / 1e6);
      prev.cpu_s += r.cpu_s; prev.mock_cpu_s += r.mock_cpu_s; prev.rounds = rounds;
    } else (wrk[r.scenario] ??= {})[r.target] = r;
  }
  else if (r.kind === 'sse') ((sse[r.scenario] ??= {})[r.target] ??= []).push({ ...r.sse, cpu_s: r.cpu_s ?? null });
  else if (r.kind === 'note') notes[r.name] = r.value;
  else if (r.kind === 'case' && r.round > 0) (cases[r.case] ??= []).push(r);
  else if (r.kind === 'redisbench') redisBench[r.name] = r;
  else if (r.kind === 'tokens') tokens.push(r.r);
}
const hasCore = Object.keys(wrk).length > 0;

// several rounds of one streaming scenario (P6): median of the rounds' percentiles, errors added up
const median = (xs) => { const a = xs.filter((x) => x !== null).sort((x, y) => x - y); return a.length ? a[(a.length - 1) >> 1] : null; };
for (const scen of Object.values(sse)) {
  for (const [t, runs] of Object.entries(scen)) {
    const m = { ...runs[0], rounds: runs.length, runs };
    if (runs.length > 1) {
      for (const k of Object.keys(m)) if (k.endsWith('_ms')) m[k] = median(runs.map((r) => r[k]));
      m.n = runs.reduce((s, r) => s + r.n, 0); m.ok = runs.reduce((s, r) => s + r.ok, 0);
      m.errors = runs.reduce((s, r) => s + r.errors, 0);
      m.error_kinds = {};
      for (const r of runs) for (const [k, v] of Object.entries(r.error_kinds)) m.error_kinds[k] = (m.error_kinds[k] || 0) + v;
      m.events_min = Math.min(...runs.map((r) => r.events_min ?? Infinity));
      m.events_max = Math.max(...runs.map((r) => r.events_max ?? -Infinity));
      m.rss_max_kb = Math.max(...runs.map((r) => r.rss_max_kb ?? 0)) || null;
      m.max_open = Math.max(...runs.map((r) => r.max_open));
    }
    scen[t] = m;
  }
}
const num = (x, d) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
const ms = (x) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a'
  : Math.abs(x) < 1 ? x.toFixed(3) : Math.abs(x) < 100 ? x.toFixed(2) : x.toFixed(0));
const sms = (x) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : (x >= 0 ? '+' : '−') + ms(Math.abs(x)));
const int = (x) => (x === null || x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const mb = (kb) => (kb ? (kb / 1024).toFixed(0) + ' MB' : 'n/a');
const errs = (w) => (w ? w.wrk.err_connect + w.wrk.err_read + w.wrk.err_write + w.wrk.err_status + w.wrk.err_timeout : null);
const errDetail = (w) => {
  if (!w) return 'n/a';
  const e = w.wrk, parts = [];
  for (const k of ['connect', 'read', 'write', 'status', 'timeout']) if (e['err_' + k]) parts.push(`${k} ${e['err_' + k]}`);
  return parts.length ? parts.join(', ') : '0';
};
const lat = (w, p) => (w ? w.wrk[p] / 1000 : null); // ms
const over = (s, t, p) => (s?.[t] && s?.direct ? lat(s[t], p) - lat(s.direct, p) : null);
const ratio = (a, b) => (a && b ? a / b : null);
const TARGETS = ['direct', 'haproxy', 'sluice'];
const out = [];
let mute = false;
const p = (s = '') => { if (!mute) out.push(s); };

p(`# Sluice benchmark results`);
p();
p(`${meta.date} · ${meta.cpus} vCPU (${meta.cpu_model}), Linux ${meta.kernel} · ${meta.java} · HAProxy ${meta.haproxy} · `
  + `wrk ${meta.wrk} · Node ${meta.node} · commit ${meta.commit}`);
p();
p(`Everything on 127.0.0.1, sharing the same cores: load generator (wrk / Node SSE driver), the mock upstream `
  + `(\`sluice mock-upstream\`, 2 event loops), HAProxy and Sluice (\`-Xms128m -Xmx512m\`, one event loop per core, `
  + `${meta.tenants} tenant keys loaded, provider max-connections ${meta.max_connections}). `
  + `Each wrk scenario runs ${meta.duration_s} s per target (P1 and P3: two interleaved rounds of half that, counts added, latency percentiles averaged), after a `
  + `${notes.warmup_s} s Sluice warm-up (until its CPU per request was stable: last round ${num(notes.warmup_last_us, 1)} µs). `
  + `Overhead = target − direct in this run; × = ratio to HAProxy in this run. Whole run: ${meta.elapsed_s} s.`);
p();

// ---- non-streaming
mute = !hasCore;
p(`## Non-streaming (wrk, 2 threads; 1 thread for 1 connection)`);
p();
p(`| target | P1 req/s, 64 conns, 0 ms (×HAProxy) | P2 own CPU per request | P2 req per CPU-second (×HAProxy) | P3 1 conn p50 / p99 | P4 250 conns, 50 ms: req/s, p50 / p99 / p99.9 | P5 1000 conns, 50 ms: req/s (×HAProxy), p99, errors |`);
p(`| --- | --- | --- | --- | --- | --- | --- |`);
const cpuPerReq = {};
for (const t of TARGETS) {
  const p1 = wrk.P1?.[t], p3 = wrk.P3?.[t], p4 = wrk.P4?.[t], p5 = wrk.P5?.[t];
  const h1 = wrk.P1?.haproxy, h5 = wrk.P5?.haproxy;
  let cpu = 'n/a (mock)', perCpu = '–';
  if (t !== 'direct' && p1 && p1.cpu_s > 0) {
    cpuPerReq[t] = p1.wrk.requests / p1.cpu_s;
    cpu = `${num((p1.cpu_s / p1.wrk.requests) * 1e6, 1)} µs`;
    perCpu = `${int(cpuPerReq[t])}`;
  }
  if (t === 'direct' && p1) cpu = `(mock: ${num((p1.mock_cpu_s / p1.wrk.requests) * 1e6, 1)} µs)`;
  const l3 = t === 'direct'
    ? `${ms(lat(p3, 'p50_us'))} / ${ms(lat(p3, 'p99_us'))} ms absolute`
    : `${sms(over(wrk.P3, t, 'p50_us'))} / ${sms(over(wrk.P3, t, 'p99_us'))} ms`;
  const l4 = t === 'direct'
    ? `${int(p4?.wrk.rps)}, ${ms(lat(p4, 'p50_us'))} / ${ms(lat(p4, 'p99_us'))} / ${ms(lat(p4, 'p999_us'))} ms absolute, errors ${errDetail(p4)}`
    : `${int(p4?.wrk.rps)}, ${sms(over(wrk.P4, t, 'p50_us'))} / ${sms(over(wrk.P4, t, 'p99_us'))} / ${sms(over(wrk.P4, t, 'p999_us'))} ms, errors ${errDetail(p4)}`;
  const l5 = t === 'direct'
    ? `${int(p5?.wrk.rps)} (${num(ratio(p5?.wrk.rps, h5?.wrk.rps), 2)}×), ${ms(lat(p5, 'p99_us'))} ms absolute, ${errDetail(p5)}`
    : `${int(p5?.wrk.rps)} (${num(ratio(p5?.wrk.rps, h5?.wrk.rps), 2)}×), ${sms(over(wrk.P5, t, 'p99_us'))} ms, ${errDetail(p5)}`;
  p(`| ${t} | ${int(p1?.wrk.rps)} (${num(ratio(p1?.wrk.rps, h1?.wrk.rps), 2)}×) | ${cpu} | ${perCpu}${t === 'sluice' ? ` (${num(ratio(cpuPerReq.sluice, cpuPerReq.haproxy), 2)}×)` : t === 'haproxy' ? ' (1.00×)' : ''} | ${l3} | ${l4} | ${l5} |`);
}
p();

// ---- streaming
p(`## Streaming (Node SSE driver; a stream without \`data: [DONE]\` is an error; TTFT = first \`data:\` bytes)`);
p();
p(`| target | P6 100 streams × ${sse.P6?.sluice?.rounds ?? 1} interleaved rounds: TTFT p50 / p99 (direct: median round; others: median of per-round differences), events/stream, errors | P7 ${sse.P7?.direct?.n ?? 'n/a'} slow streams: max open, errors, TTFT p50 / p99, peak RSS | ${sse.P7hi ? `${sse.P7hi.direct?.n} streams: max open, errors, TTFT p50 / p99, peak RSS` : ''} |`);
p(`| --- | --- | --- | --- |`);
// Overhead vs direct; with interleaved rounds, the median of the per-round differences (each round's target run
// directly follows its direct run, so slow drift of the shared box cancels better than with medians per target).
const sOver = (s, t, k) => {
  const a = s?.[t], d = s?.direct;
  if (!a || !d || a[k] === null || d[k] === null) return null;
  if (a.rounds > 1 && d.rounds === a.rounds) return median(a.runs.map((r, i) => (r[k] ?? NaN) - (d.runs[i][k] ?? NaN)).filter((x) => !Number.isNaN(x)));
  return a[k] - d[k];
};
for (const t of TARGETS) {
  const a = sse.P6?.[t], b = sse.P7?.[t], c = sse.P7hi?.[t];
  const ev = (x) => (x ? (x.events_min === x.events_max ? `${x.events_min}` : `${x.events_min}–${x.events_max}`) : 'n/a');
  const err = (x) => (x ? `${x.errors}${x.errors ? ' ' + JSON.stringify(x.error_kinds) : ''}` : 'n/a');
  const tt = (s, x) => (!x ? 'n/a' : t === 'direct' ? `${ms(x.ttft_p50_ms)} / ${ms(x.ttft_p99_ms)} ms absolute`
    : `${sms(sOver(s, t, 'ttft_p50_ms'))} / ${sms(sOver(s, t, 'ttft_p99_ms'))} ms`);
  const p6 = `${tt(sse.P6, a)}, ${ev(a)}, ${err(a)}`;
  const p7 = b ? `${b.max_open}, ${err(b)}, ${tt(sse.P7, b)}, ${t === 'direct' ? '–' : mb(b.rss_max_kb)}` : 'n/a';
  const p7h = c ? `${c.max_open}, ${err(c)}, ${tt(sse.P7hi, c)}, ${t === 'direct' ? '–' : mb(c.rss_max_kb)}` : sse.P7hi ? 'not run' : '';
  p(`| ${t} | ${p6} | ${p7} | ${p7h} |`);
}
p();
const sl7 = sse.P7?.sluice, sl7h = sse.P7hi?.sluice;
const idle = notes.rss_sluice_idle_kb, before = sl7?.rss_start_kb ?? notes.rss_sluice_before_streams_kb;
const perStream1k = sl7 && before ? ((sl7.rss_max_kb - before) / sl7.n) : null;
const perStreamHi = sl7 && sl7h ? ((sl7h.rss_max_kb - sl7.rss_max_kb) / (sl7h.n - sl7.n)) : null;
const hp7 = sse.P7?.haproxy;
p(`Memory (VmRSS): Sluice at start ${mb(notes.rss_sluice_start_kb)}, idle after warm-up ${mb(notes.rss_sluice_warm_idle_kb)}, idle after the wrk scenarios ${mb(idle)}, `
  + `before the slow streams ${mb(before)}, peak during ${sl7?.n ?? 'n/a'} streams ${mb(sl7?.rss_max_kb)}`
  + (sl7h ? `, peak during ${sl7h.n} streams ${mb(sl7h.rss_max_kb)}` : '')
  + `, after ${mb(notes.rss_sluice_after_kb)}. HAProxy idle ${mb(notes.rss_haproxy_idle_kb)}, peak during ${hp7?.n ?? 'n/a'} streams ${mb(hp7?.rss_max_kb)}.`);
const evCpu = (x) => (x && x.cpu_s && x.ok ? `${num((x.cpu_s * 1e6) / (x.ok * ((x.events_min + x.events_max) / 2)), 1)} µs` : 'n/a');
p(`Own CPU per relayed SSE event during the ${sl7?.n ?? 'n/a'} slow streams: HAProxy ${evCpu(hp7)}, Sluice ${evCpu(sl7)}`
  + (sl7h ? `; during ${sl7h.n} streams: Sluice ${evCpu(sl7h)}` : '') + ` (connection set-up included).`);
p(`Approximate Sluice RSS per open stream: ${perStream1k === null ? 'n/a' : num(perStream1k, 1) + ' KB'} (peak − before, 0 → ${sl7?.n ?? 'n/a'} streams)`
  + (sl7h ? `; ${perStreamHi === null ? 'n/a' : num(perStreamHi, 1) + ' KB'} marginal (${sl7.n} → ${sl7h.n} streams, same process, heap already grown — not the fresh-process method of notes/performance.md)` : '')
  + `. Access-log lines written: ${notes.sluice_access_log_lines ?? 'n/a'}.`);
p();

// ---- GC (from -Xlog:gc)
if (gcFile) {
  let pauses = [];
  try {
    pauses = [...readFileSync(gcFile, 'utf8').matchAll(/Pause (Young|Full|Remark|Cleanup)[^\n]*?([\d.]+)ms$/gm)].map((m) => [m[1], Number(m[2])]);
  } catch { /* no GC log */ }
  const total = pauses.reduce((s, [, x]) => s + x, 0), max = Math.max(0, ...pauses.map(([, x]) => x));
  const full = pauses.filter(([k]) => k === 'Full').length;
  p(`Sluice GC over the whole run (G1): ${pauses.length} pauses, ${ms(total)} ms in total, longest ${ms(max)} ms, ${full} full GCs.`);
  p();
}

// ---- gates
const g = [];
const pass = (ok) => (ok === null ? 'n/a' : ok ? 'PASS' : '**MISS**');
mute = false;
// ---- feature scenarios (bench/features.sh): 64 connections, 0 ms upstream, interleaved rounds
const featureLines = featureReport();
for (const l of featureLines.lines) p(l);
const r1 = ratio(wrk.P1?.sluice?.wrk.rps, wrk.P1?.haproxy?.wrk.rps);
g.push(['P1 throughput, 64 conns, 0 ms', '≥ 0.70× HAProxy (stretch ≥ 0.85×)', `${num(r1, 2)}×`, pass(r1 === null ? null : r1 >= 0.70)]);
const r2 = ratio(cpuPerReq.sluice, cpuPerReq.haproxy);
g.push(['P2 CPU per request', '≥ 0.40× HAProxy req per CPU-s (stretch ≥ 0.60×)', `${num(r2, 2)}× (${num(wrk.P1?.sluice ? wrk.P1.sluice.cpu_s / wrk.P1.sluice.wrk.requests * 1e6 : null, 1)} µs vs ${num(wrk.P1?.haproxy ? wrk.P1.haproxy.cpu_s / wrk.P1.haproxy.wrk.requests * 1e6 : null, 1)} µs)`, pass(r2 === null ? null : r2 >= 0.40)]);
const o3a = over(wrk.P3, 'sluice', 'p50_us'), o3b = over(wrk.P3, 'sluice', 'p99_us');
g.push(['P3 added latency, 1 conn', 'p50 ≤ +0.1 ms, p99 ≤ +1 ms (stretch p50 ≤ +0.05)', `${sms(o3a)} / ${sms(o3b)} ms`, pass(o3a === null ? null : o3a <= 0.1 && o3b <= 1.0)]);
const o4 = ['p50_us', 'p99_us', 'p999_us'].map((k) => over(wrk.P4, 'sluice', k));
g.push(['P4 added latency ≈5k req/s, 50 ms (closed loop, 250 conns)', 'p50 ≤ +0.5, p99 ≤ +3, p99.9 ≤ +20 ms (stretch p99 ≤ +1.5)', `${o4.map(sms).join(' / ')} ms at ${int(wrk.P4?.sluice?.wrk.rps)} req/s, errors ${errDetail(wrk.P4?.sluice)}`, pass(o4[0] === null ? null : o4[0] <= 0.5 && o4[1] <= 3 && o4[2] <= 20 && errs(wrk.P4?.sluice) === 0)]);
const r5 = ratio(wrk.P5?.sluice?.wrk.rps, wrk.P5?.haproxy?.wrk.rps), o5 = over(wrk.P5, 'sluice', 'p99_us');
g.push(['P5 1000 conns, 50 ms', '≥ 0.90× HAProxy, p99 ≤ +15 ms, 0 errors (stretch ≥ 0.97×)', `${num(r5, 2)}×, ${sms(o5)} ms, errors ${errDetail(wrk.P5?.sluice)}`, pass(r5 === null ? null : r5 >= 0.9 && o5 <= 15 && errs(wrk.P5?.sluice) === 0)]);
const o6a = sOver(sse.P6, 'sluice', 'ttft_p50_ms'), o6b = sOver(sse.P6, 'sluice', 'ttft_p99_ms');
const sameEv = sse.P6?.sluice && sse.P6?.direct && sse.P6.sluice.events_min === sse.P6.direct.events_min && sse.P6.sluice.events_max === sse.P6.direct.events_max;
const noisy6 = sse.P6?.direct?.runs ? Math.max(...sse.P6.direct.runs.map((r) => r.ttft_p50_ms)) - Math.min(...sse.P6.direct.runs.map((r) => r.ttft_p50_ms)) : null;
const v6 = pass(o6a === null ? null : o6a <= 1 && o6b <= 5 && sameEv && sse.P6.sluice.errors === 0);
g.push(['P6 TTFT, 100 streams', 'p50 ≤ +1 ms, p99 ≤ +5 ms, same events (stretch p50 ≤ +0.3)', `${sms(o6a)} / ${sms(o6b)} ms, events ${sameEv ? 'same' : 'DIFFER'}, errors ${sse.P6?.sluice?.errors ?? 'n/a'}${noisy6 !== null ? `; direct p50 itself varied ${ms(noisy6)} ms between rounds` : ''}`,
  noisy6 !== null && noisy6 > 2 ? `${v6} (inconclusive: noise ≫ target)` : v6]);
const o7 = sOver(sse.P7, 'sluice', 'ttft_p99_ms');
const perStream = perStreamHi ?? perStream1k;
g.push([`P7 memory per open stream (${sl7?.n ?? '?'}${sl7h ? ' → ' + sl7h.n : ''} streams)`, '≤ 32 KB/stream, 0 errors, TTFT p99 ≤ +25 ms (stretch ≤ 16 KB)', `≈${num(perStream, 1)} KB/stream (approx.), errors ${sl7?.errors ?? 'n/a'}${sl7h ? '/' + sl7h.errors : ''}, TTFT p99 ${sms(o7)} ms${sl7h ? ` (${sms(sOver(sse.P7hi, 'sluice', 'ttft_p99_ms'))} ms at ${sl7h.n})` : ''}`, pass(perStream === null || !sl7 ? null : perStream <= 32 && sl7.errors === 0 && (!sl7h || sl7h.errors === 0) && o7 <= 25)]);
const warmIdle = notes.rss_sluice_warm_idle_kb;
g.push(['P8 idle RSS (after warm-up)', '≤ 256 MB (stretch ≤ 128 MB)', `${mb(warmIdle)} (${mb(notes.rss_sluice_start_kb)} right after start, ${mb(idle)} idle after the wrk scenarios)`, pass(warmIdle ? warmIdle / 1024 <= 256 : null)]);
const gates = hasCore ? g : [];
gates.push(...featureLines.gates);
p(`## Targets (Sluice)`);
p();
p(`| # | must hold | measured | verdict |`);
p(`| --- | --- | --- | --- |`);
for (const [name, target, measured, verdict] of gates) p(`| ${name} | ${target} | ${measured} | ${verdict} |`);
p();
if (hasCore) {
  p(`Hot path of P1-P8: the bench tenant (tenant-key auth, an HMAC lookup among ${meta.tenants} keys; no limits, no budget, `
    + `no price, cache off), routing, upstream call, usage event, Prometheus metrics, async access log (to a file). `
    + `Rate limits, budgets, cost and the cache are measured by the feature scenarios above, on tenants of their own.`);
}
console.log(out.join('\n'));

function featureReport() {
  const lines = [], gatesOut = [];
  if (!Object.keys(cases).length && !Object.keys(redisBench).length && !tokens.length) return { lines, gates: gatesOut };
  const L = (x = '') => lines.push(x);
  // aggregate the rounds of each case: counts and CPU added, latency percentiles averaged, /metrics deltas added
  const agg = {};
  for (const [name, rs] of Object.entries(cases)) {
    const a = { name, rounds: rs.length, proc: rs[0].proc, requests: 0, duration_us: 0, cpu_s: 0, redis_cpu_s: 0, redis_cmds: 0,
      p50: 0, p99: 0, errors: 0, d: {}, perRound: {}, rss_kb: rs[rs.length - 1].rss_kb };
    for (const r of rs) {
      a.requests += r.wrk.requests; a.duration_us += r.wrk.duration_us; a.cpu_s += r.cpu_s; a.redis_cpu_s += r.redis_cpu_s;
      a.redis_cmds += r.redis_cmds; a.p50 += r.wrk.p50_us / 1000 / rs.length; a.p99 += r.wrk.p99_us / 1000 / rs.length;
      a.errors += r.wrk.err_connect + r.wrk.err_read + r.wrk.err_write + r.wrk.err_status + r.wrk.err_timeout;
      for (const k of Object.keys(r.m1 ?? {})) a.d[k] = (a.d[k] ?? 0) + (r.m1[k] - (r.m0?.[k] ?? 0));
      a.perRound[r.round] = { rps: r.wrk.rps, p99: r.wrk.p99_us / 1000, cpu: r.cpu_s / r.wrk.requests * 1e6 };
    }
    a.rps = a.requests / (a.duration_us / 1e6);
    a.cpu_us = a.requests ? a.cpu_s * 1e6 / a.requests : null;
    a.redis_us = a.requests && a.redis_cpu_s ? a.redis_cpu_s * 1e6 / a.requests : null;
    a.cmds = a.requests && a.redis_cmds ? a.redis_cmds / a.requests : null;
    agg[name] = a;
  }
  const has = (n) => !!agg[n];
  // ratio of aggregates, plus the per-round ratios (each round's pair ran back to back) to show the spread
  const rr = (n, base, key) => {
    const a = agg[n], b = agg[base];
    if (!a || !b) return 'n/a';
    const v = key === 'rps' ? a.rps / b.rps : key === 'p99' ? a.p99 / b.p99 : a.cpu_us / b.cpu_us;
    const rounds = Object.keys(a.perRound).filter((r) => b.perRound[r]).map((r) => a.perRound[r][key] / b.perRound[r][key]);
    return `**${num(v, 2)}×**` + (rounds.length > 1 ? ` (${rounds.map((x) => num(x, 2)).join(', ')})` : '');
  };
  const ratioV = (n, base, key) => (agg[n] && agg[base] ? agg[n][key] / agg[base][key] : null);
  const errCol = (a) => {
    const parts = [];
    if (a.errors) parts.push(`wrk errors ${a.errors}`);
    if (a.d.redis_errors) parts.push(`Redis errors ${a.d.redis_errors}`);
    if (a.d.degraded) parts.push(`fail-open ${a.d.degraded}`);
    if (a.d.rejections) parts.push(`429 ${a.d.rejections}`);
    if (a.d.BYPASS) parts.push(`cache BYPASS ${a.d.BYPASS}`);
    return parts.length ? parts.join(', ') : '0';
  };
  const cacheCol = (a) => {
    const tot = ['HIT', 'MISS', 'DISABLED', 'BYPASS', 'REFRESH'].reduce((acc, k) => acc + (a.d[k] ?? 0), 0);
    if (!tot) return '–';
    return ['HIT', 'MISS', 'DISABLED', 'BYPASS', 'REFRESH'].filter((k) => a.d[k]).map((k) => `${k} ${num(100 * a.d[k] / tot, 1)} %`).join(', ');
  };
  const row = (label, n, cols) => (has(n) ? `| ${label} | ${cols(agg[n])} |` : null);
  const any = (...ns) => ns.some(has);
  const rounds = Math.max(0, ...Object.values(agg).map((a) => a.rounds));
  L(`## Feature scenarios (64 connections, 0 ms upstream)`);
  L();
  L(`wrk, 2 threads, 64 connections, ${meta.feature_s ?? '?'} s per case, ${rounds} rounds, round 2 in reverse order (drift hits every case alike), `
    + `after an unreported round 0 of 2 s per case. `
    + `Ratios are of the summed rounds; in parentheses, the same ratio per round (each pair ran minutes apart at most). `
    + `CPU = the serving process's own CPU per request (/proc); Redis columns = the private redis-server's CPU and commands per request. `
    + `The last column comes from the gateway's own /metrics, scraped before and after each case: it must be 0 for the case to mean what it says. `
    + `Load average: ${notes.load_start ?? '?'} at the start, ${notes.load_after_features ?? '?'} after the feature cases, ${meta.load_end ?? '?'} at the end. `
    + `Warm-up of the new paths: main gateway ${notes.warmup_features_s ?? '–'} s, Redis-backed gateway ${notes.warmup_sluice_redis_s ?? '–'} s, log-off gateway ${notes.warmup_sluice_logoff_s ?? '–'} s.`);
  L();
  const cols = (a, base) => `${int(a.rps)} | ${base ? rr(a.name, base, 'rps') : '–'} | ${ms(a.p99)} | ${base ? rr(a.name, base, 'p99') : '–'} | ${num(a.cpu_us, 1)} | ${base ? rr(a.name, base, 'cpu') : '–'} | ${a.redis_us === null ? '–' : num(a.redis_us, 1)} | ${a.cmds === null ? '–' : num(a.cmds, 1)} | ${errCol(a)}`;
  const head = `| case | req/s | req/s ratio | p99 ms | p99 ratio | CPU µs/req | CPU ratio | Redis CPU µs/req | Redis cmds/req | errors, fail-open, 429, bypass |`;
  const sep = `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`;
  if (any('lim_mem', 'lim_redis')) {
    L(`### Rate limits and budgets (issue "rate limits")`);
    L();
    L(`Tenant \`bench-limits\`: requests and tokens per minute 10⁹ (the token bucket reserves prompt + 4,096 output tokens per request `
      + `and refunds the rest), in-flight cap 100,000, daily budget $1,000,000, and a price on its upstream model, so each request `
      + `runs admission (request bucket, token bucket, in-flight lease, budget reservation), settlement, cost and the spend ledger. `
      + `Baseline: the bench tenant (no limits, no budget, no price) on the same process. `
      + `Redis-backed process: \`redis.command-timeout: ${meta.redis_timeout ?? '?'}\` (production default 50ms), Redis ${meta.redis ?? '?'} on its own port, no persistence.`);
    L();
    L(head); L(sep);
    for (const r of [row('limits off (in-memory process) — baseline', 'off', (a) => cols(a, null)),
      row('limits on, in memory', 'lim_mem', (a) => cols(a, 'off')),
      row('limits off, Redis-backed process — baseline', 'off_redis', (a) => cols(a, null)),
      row('limits on, Redis', 'lim_redis', (a) => cols(a, 'off_redis')),
      row('(limits on, Redis, vs the in-memory process\'s baseline)', 'lim_redis', (a) => cols(a, 'off')),
      row('(Redis-backed process, limits off, vs the in-memory process: cross-process noise)', 'off_redis', (a) => cols(a, 'off'))].filter(Boolean)) L(r);
    L();
  }
  if (Object.keys(redisBench).length) {
    L(`Redis admission script alone (\`redis-benchmark -c 50 -n N EVALSHA <admit.lua> …\`, one tenant's keys, no pipelining; the client shares the cores):`);
    L();
    L(`| command | ops/s | ×SET | p50 / p99 ms | Redis CPU µs/op |`);
    L(`| --- | --- | --- | --- | --- |`);
    const set = redisBench.set;
    const label = { set: 'SET (reference)', admit_buckets: 'admit.lua: request + token bucket', admit_inflight: 'admit.lua: buckets + in-flight lease (ZSET)' };
    for (const [k, b] of Object.entries(redisBench)) {
      L(`| ${label[k] ?? k} | ${int(b.ops_s)} | ${set && k !== 'set' ? num(b.ops_s / set.ops_s, 2) + '×' : '–'} | ${b.p50_ms} / ${b.p99_ms} | ${num(b.redis_cpu_s * 1e6 / b.n, 1)} |`);
    }
    const adm = redisBench.admit_inflight ?? redisBench.admit_buckets;
    if (adm) L(`\nOne Redis core at this CPU cost: ≈ ${int(1e6 / (adm.redis_cpu_s * 1e6 / adm.n))} admission decisions per second.`);
    L();
  }
  if (any('hit_mem', 'hit_redis', 'miss_mem', 'miss_redis')) {
    L(`### Cache (issue "cache") and P9`);
    L();
    L(`Tenant \`bench-cache\` (cache on, TTL 10 min). Hits: the same body with \`temperature: 0\` on every request. `
      + `Misses: \`temperature: 0\` and a per-request counter in the prompt, so every request is a real MISS (lookup, single-flight leader, upstream, store). `
      + `The misses' wrk script builds every request in Lua, which costs the load generator more than the static hits; `
      + `\`cache off, unique bodies\` uses the same script on the bench tenant (cache DISABLED) to separate that. `
      + `req/s ratio here: vs HAProxy (P9) for every row.`);
    L();
    L(`| case | req/s | ×HAProxy | p99 ms | CPU µs/req | Redis CPU µs/req | Redis cmds/req | cache results (/metrics) | errors, fail-open, bypass |`);
    L(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
    const c2 = (a) => `${int(a.rps)} | ${a.name === 'haproxy' ? '1.00×' : rr(a.name, 'haproxy', 'rps')} | ${ms(a.p99)} | ${num(a.cpu_us, 1)} | ${a.redis_us === null ? '–' : num(a.redis_us, 1)} | ${a.cmds === null ? '–' : num(a.cmds, 1)} | ${cacheCol(a)} | ${errCol(a)}`;
    for (const r of [row('HAProxy (static body)', 'haproxy', c2), row('cache off (bench tenant)', 'off', c2),
      row('cache off, unique bodies', 'off_unique', c2), row('**hit, in memory**', 'hit_mem', c2), row('miss, in memory', 'miss_mem', c2),
      row('**hit, Redis**', 'hit_redis', c2), row('miss, Redis', 'miss_redis', c2)].filter(Boolean)) L(r);
    L();
    L(`| ratio | in memory | Redis |`);
    L(`| --- | --- | --- |`);
    L(`| hit vs miss, req/s | ${rr('hit_mem', 'miss_mem', 'rps')} | ${rr('hit_redis', 'miss_redis', 'rps')} |`);
    L(`| hit vs miss, p99 | ${rr('hit_mem', 'miss_mem', 'p99')} | ${rr('hit_redis', 'miss_redis', 'p99')} |`);
    L(`| hit vs miss, CPU per request | ${rr('hit_mem', 'miss_mem', 'cpu')} | ${rr('hit_redis', 'miss_redis', 'cpu')} |`);
    L(`| hit vs cache off (static body), req/s | ${rr('hit_mem', 'off', 'rps')} | ${rr('hit_redis', 'off_redis', 'rps')} |`);
    L(`| miss vs cache off (unique bodies), req/s | ${rr('miss_mem', 'off_unique', 'rps')} | ${has('off_unique') && has('miss_redis') ? rr('miss_redis', 'off_unique', 'rps') + ' (cross-process)' : 'n/a'} |`);
    L(`| miss vs cache off (unique bodies), CPU per request | ${rr('miss_mem', 'off_unique', 'cpu')} | ${has('off_unique') && has('miss_redis') ? rr('miss_redis', 'off_unique', 'cpu') + ' (cross-process)' : 'n/a'} |`);
    L();
  }
  if (any('full_mem', 'full_redis')) {
    L(`### Full hot path`);
    L();
    L(`Tenant \`bench-full\`: limits + budget + price + cache on, every request a cache MISS (unique bodies, \`temperature: 0\`): `
      + `key auth, rate limit, budget, cache lookup forced to miss, upstream, store, usage event, metrics, ledger, access log.`);
    L();
    L(`| case | req/s | ×HAProxy | ×cache off, unique bodies | p99 ms | CPU µs/req | CPU ×cache off, unique | Redis CPU µs/req | Redis cmds/req | errors, fail-open, 429, bypass |`);
    L(`| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
    const c3 = (a) => `${int(a.rps)} | ${rr(a.name, 'haproxy', 'rps')} | ${rr(a.name, 'off_unique', 'rps')} | ${ms(a.p99)} | ${num(a.cpu_us, 1)} | ${rr(a.name, 'off_unique', 'cpu')} | ${a.redis_us === null ? '–' : num(a.redis_us, 1)} | ${a.cmds === null ? '–' : num(a.cmds, 1)} | ${errCol(a)}`;
    for (const r of [row('full hot path, in memory', 'full_mem', c3), row('full hot path, Redis', 'full_redis', c3)].filter(Boolean)) L(r);
    L();
  }
  if (any('log_off') || tokens.length) {
    L(`### Usage path (issue "usage/metrics")`);
    L();
  }
  if (any('log_off')) {
    L(`Access log off: a gateway process started with \`SLUICE_ACCESS_LOG_LEVEL=OFF\` (same config as the main one; it wrote `
      + `${notes.logoff_access_log_lines ?? '?'} access-log lines). Access log on: the Redis-backed process, started at the same time and warmed `
      + `right after it on the same request mix (its bench tenant touches no Redis), and the main gateway (older, longer warmed). `
      + `Bench tenant, static body; usage events and Prometheus metrics stay on everywhere; stdout goes to a file.`);
    L();
    L(head); L(sep);
    for (const r of [row('access log on, equally young process — baseline', 'off_redis', (a) => cols(a, null)),
      row('access log off', 'log_off', (a) => cols(a, has('off_redis') ? 'off_redis' : null)),
      row('access log on, main process — baseline', 'off', (a) => cols(a, null)),
      row('access log off (vs the main process)', 'log_off', (a) => cols(a, 'off'))].filter(Boolean)) L(r);
    L();
  }
  if (tokens.length) {
    L(`Token counting (\`bench/TokenCountBench.java\`: \`TokenCounter.shared().countMessages(…)\`, one thread, 2 s warm-up, median of 5 × 0.5 s; `
      + `thread CPU time, so other processes do not inflate it). Sluice runs this on the event loop when a limit, budget or context guard needs the count, for bodies up to 16 KiB (larger ones on a worker).`);
    L();
    L(`| messages | model (encoding) | characters | tokens | CPU µs per request | requests/s per core | tokens/s per core | wall µs |`);
    L(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
    const enc = (m) => (m.startsWith('gpt-4o') || m === 'mock' ? 'o200k_base' : 'cl100k_base');
    for (const t of tokens) L(`| ${t.case} | ${t.model} (${enc(t.model)}) | ${int(t.chars)} | ${t.tokens} | ${num(t.us_per_request, 1)} (rounds ${num(t.us_min, 1)}–${num(t.us_max, 1)}) | ${int(t.requests_per_s)} | ${int(t.tokens_per_s)} | ${num(t.wall_us_per_request, 1)} |`);
    L();
  }
  // P9 and the full-hot-path P1
  const p9m = ratioV('hit_mem', 'haproxy', 'rps'), p9r = ratioV('hit_redis', 'haproxy', 'rps');
  if (p9m !== null || p9r !== null) {
    const best = Math.min(...[p9m, p9r].filter((x) => x !== null));
    const clean = ['hit_mem', 'hit_redis'].filter(has).every((n) => !agg[n].errors && !agg[n].d.BYPASS && !agg[n].d.redis_errors);
    gatesOut.push(['P9 cache hits, 64 conns', '≥ 1.0× HAProxy req/s (stretch ≥ 1.5×)',
      `in memory ${num(p9m, 2)}×, Redis ${num(p9r, 2)}×${clean ? '' : ' (with errors or bypasses: see the cache table)'}`, pass(best >= 1.0 && clean)]);
  }
  const fm = ratioV('full_mem', 'haproxy', 'rps'), fr = ratioV('full_redis', 'haproxy', 'rps');
  if (fm !== null || fr !== null) {
    gatesOut.push(['P1 on the full hot path (limits + budget + price + cache miss), 64 conns, 0 ms', '≥ 0.70× HAProxy req/s (stretch ≥ 0.85×)',
      `in memory ${num(fm, 2)}×, Redis ${num(fr, 2)}× (wrk builds each request in Lua here: see the cache table's "cache off, unique bodies")`, pass(fm === null ? null : fm >= 0.70)]);
  }
  return { lines, gates: gatesOut };
}
