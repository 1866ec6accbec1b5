// Turns bench/run.sh's raw.jsonl + meta.json into the Markdown results (stdout).
// Overheads are target − direct in the same run; ratios are against HAProxy in the same run.
import { readFileSync } from 'node:fs';

const [rawFile, metaFile, gcFile] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
const wrk = {}, sse = {}, notes = {};
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
}

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
const p = (s = '') => out.push(s);

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
g.push(['P9 cache hits', '≥ 1.0× HAProxy', 'not measured: no cache in the hot path yet', 'n/a']);
p(`## SPEC §12 targets (Sluice)`);
p();
p(`| # | must hold | measured | verdict |`);
p(`| --- | --- | --- | --- |`);
for (const [name, target, measured, verdict] of g) p(`| ${name} | ${target} | ${measured} | ${verdict} |`);
p();
p(`Hot path measured: tenant-key auth (HMAC lookup among ${meta.tenants} keys), routing, upstream call, async access log `
  + `(to a file). Not yet in the product, so not measured: rate limiter, cache lookup, metrics.`);
console.log(out.join('\n'));
