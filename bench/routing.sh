#!/usr/bin/env bash
# Attempt loop and circuit breakers: what they cost on the happy path, and how fast the 503 is when every
# breaker is open. One command: bench/routing.sh (about 2½ minutes; builds target/sluice.jar if missing).
#
# 1. In process (bench/AttemptLoopBench.java): CPU ns per request of AttemptLoop over 1 and over 3 weighted
#    deployments, and of the all-open refusal; printed as a share of the gateway's whole CPU per request (part 2).
# 2. Over HTTP, one Sluice process in front of `sluice mock-upstream` (0 ms), wrk 2 threads × 64 connections,
#    ROUTING_SECS s per case, ROUTING_ROUNDS rounds in A B C / C B A order:
#      one    alias with one deployment (the core pipeline's route)
#      chain  alias with three deployments: two of priority 0 weighted 3:1, one fallback of priority 1
#      open   alias whose two deployments point at a closed port; both breakers were opened before measuring,
#             so every request is the immediate 503 upstream_unavailable with retry-after
#      badkey the 401 for an unknown key: the cheapest error the core pipeline gives, as the baseline of `open`
#    then `open` and `badkey` once more with a single connection (unloaded latency of the fast 503).
#    Each case prints req/s, latency p50/p99 and the gateway's own CPU per request (/proc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${ROUTING_SECS:-6}
ROUNDS=${ROUTING_ROUNDS:-3}
WARM=${ROUTING_WARMUP:-8}
JAR=$ROOT/target/sluice.jar
RUN=$ROOT/bench/results/routing-$(date +%Y%m%d-%H%M%S)
KEY=sk-sluice-bench-routing-0123456789abcdefghijklmnopqrstuv
PEPPER=bench-pepper-not-secret
mkdir -p "$RUN"
log() { printf '[routing %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

for tool in wrk java javac curl; do command -v $tool >/dev/null || die "$tool is required"; done
[ -f "$JAR" ] || ./mvnw -q -B package -DskipTests || die "build failed"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 150); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; die "port $1 did not open"; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }

# ---------------------------------------------------------------- 1. in process
log "AttemptLoopBench (in process)"
javac -cp "$JAR" -d "$RUN/classes" bench/AttemptLoopBench.java
timeout 120 java -Xms256m -Xmx256m -cp "$JAR:$RUN/classes" AttemptLoopBench 2000 5 500 | tee "$RUN/micro.txt"

# ---------------------------------------------------------------- 2. over HTTP
MOCK_PORT=$(free_port); GW_PORT=$(free_port); CLOSED_PORT=$(free_port)
java -Xmx256m -jar "$JAR" mock-upstream --port "$MOCK_PORT" --latency 0ms > "$RUN/mock.log" 2>&1 &
PIDS+=($!)
DIGEST=$(SLUICE_KEY_PEPPER=$PEPPER java -jar "$JAR" hash-key "$KEY")
cat > "$RUN/sluice.yaml" <<EOF
server: { port: $GW_PORT, instances: 2, metrics: off }
security: { key-pepper: "$PEPPER" }
providers:
  up-a: { type: openai-compatible, base-url: "http://127.0.0.1:$MOCK_PORT/v1", max-connections: 256 }
  up-b: { type: openai-compatible, base-url: "http://127.0.0.1:$MOCK_PORT/v1", max-connections: 256 }
  up-c: { type: openai-compatible, base-url: "http://127.0.0.1:$MOCK_PORT/v1", max-connections: 256 }
  gone: { type: openai-compatible, base-url: "http://127.0.0.1:$CLOSED_PORT/v1" }
models:
  one: { deployments: [ { provider: up-a, model: mock } ] }
  chain:
    deployments:
      - { provider: up-a, model: mock, priority: 0, weight: 3 }
      - { provider: up-b, model: mock, priority: 0, weight: 1 }
      - { provider: up-c, model: mock, priority: 1 }
  open: { deployments: [ { provider: gone, model: x }, { provider: gone, model: y } ] }
tenants:
  - id: bench
    keys: [ { id: bench-key, digest: "$DIGEST" } ]
resilience: { breaker-open: 30m, backoff-base: 1ms, backoff-cap: 2ms }
EOF
SLUICE_ACCESS_LOG_LEVEL=OFF java -Xms256m -Xmx512m -jar "$JAR" --config "$RUN/sluice.yaml" > "$RUN/sluice.log" 2>&1 &
GW_PID=$!; PIDS+=($GW_PID)
wait_port "$MOCK_PORT"; wait_port "$GW_PORT"
URL=http://127.0.0.1:$GW_PORT/v1/chat/completions
chat() { curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" "$URL"; }
for _ in $(seq 12); do chat open > /dev/null; done # ≥ breaker-min-calls failures on both deployments
[ "$(chat open)" = 503 ] || die "open alias did not answer 503"
curl -s -D - -o "$RUN/open-body.json" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"model":"open","messages":[{"role":"user","content":"hi"}]}' "$URL" | grep -qi '^retry-after:' || die "no retry-after"
grep -q upstream_unavailable "$RUN/open-body.json" || die "open alias: $(cat "$RUN/open-body.json")"
for a in one chain; do [ "$(chat $a)" = 200 ] || die "alias $a did not answer 200"; done

run_case() { # name model key [connections]
  local t0 t1 out conns=${4:-64}
  t0=$(cpu_ticks "$GW_PID")
  out=$(BENCH_KEY=$3 BENCH_MODEL=$2 wrk -t$((conns < 2 ? 1 : 2)) -c"$conns" -d"${SECS}s" --latency -s bench/chat.lua "http://127.0.0.1:$GW_PORT" | grep '^RESULT ' | cut -c8-)
  t1=$(cpu_ticks "$GW_PID")
  echo "{\"case\":\"$1\",\"cpu_ticks\":$((t1 - t0)),\"wrk\":$out}" >> "$RUN/http.jsonl"
}
log "warm-up"
for c in one chain open badkey; do SECS=$WARM run_case warmup-$c "${c/badkey/one}" "$([ $c = badkey ] && echo sk-unknown-key || echo $KEY)"; done
: > "$RUN/http.jsonl"
ORDER=(one chain open badkey)
for r in $(seq "$ROUNDS"); do
  [ $((r % 2)) = 0 ] && ORDER=(badkey open chain one) || ORDER=(one chain open badkey)
  for c in "${ORDER[@]}"; do
    log "round $r: $c"
    if [ "$c" = badkey ]; then run_case "$c" one sk-unknown-key; else run_case "$c" "$c" "$KEY"; fi
  done
done
log "unloaded: one connection"
run_case open-1conn open "$KEY" 1
run_case badkey-1conn one sk-unknown-key 1
[ "$(chat open)" = 503 ] || die "open alias no longer 503 at the end"

node - "$RUN/http.jsonl" "$(getconf CLK_TCK)" "$RUN/micro.txt" <<'EOF'
const fs = require('fs');
const [file, hz, microFile] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map(JSON.parse);
const by = {};
for (const r of rows) (by[r.case] ??= []).push(r);
const agg = {};
for (const [name, rs] of Object.entries(by)) {
  const req = rs.reduce((s, r) => s + r.wrk.requests, 0), dur = rs.reduce((s, r) => s + r.wrk.duration_us, 0) / 1e6;
  const cpuUs = rs.reduce((s, r) => s + r.cpu_ticks, 0) / hz * 1e6;
  const med = (k) => rs.map(r => r.wrk[k]).sort((a, b) => a - b)[Math.floor(rs.length / 2)];
  agg[name] = { rps: req / dur, p50: med('p50_us'), p99: med('p99_us'), cpu: cpuUs / req, status: rs.reduce((s, r) => s + r.wrk.err_status, 0) };
}
const f = (x, d = 0) => x.toFixed(d);
console.log('| case | req/s | × one | p50 µs | p99 µs | CPU µs/req | non-2xx |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const n of ['one', 'chain', 'open', 'badkey', 'open-1conn', 'badkey-1conn']) {
  const a = agg[n];
  console.log(`| ${n} | ${f(a.rps)} | ${f(a.rps / agg.one.rps, 2)} | ${f(a.p50)} | ${f(a.p99)} | ${f(a.cpu, 1)} | ${a.status} |`);
}
console.log(`\nopen vs badkey: p50 ${f(agg.open.p50 / agg.badkey.p50, 2)}×, CPU/req ${f(agg.open.cpu / agg.badkey.cpu, 2)}×; chain vs one: req/s ${f(agg.chain.rps / agg.one.rps, 2)}×, CPU/req ${f(agg.chain.cpu / agg.one.cpu, 2)}×`);
const micro = fs.readFileSync(microFile, 'utf8').split('\n').filter(l => l.startsWith('RESULT ')).map(l => JSON.parse(l.slice(7)));
for (const m of micro) {
  const whole = m.case === 'all-open' ? agg.open.cpu : m.case === 'loop-1' ? agg.one.cpu : agg.chain.cpu;
  console.log(`${m.case}: ${f(m.ns_per_request)} ns per request in process = ${f(m.ns_per_request / 10 / whole, 2)} % of that case's ${f(whole, 1)} µs CPU per request over HTTP`);
}
EOF
log "raw results in $RUN"
