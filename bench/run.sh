#!/usr/bin/env bash
# Sluice benchmark: direct-to-mock vs plain HAProxy vs Sluice, same mock, same run, 127.0.0.1.
# One command: bench/run.sh   — see docs/benchmarks.md for what each scenario measures.
# Results: printed, and written to bench/results/latest.md (+ raw logs in bench/results/run-<timestamp>/).
#
# Tunables (env): BENCH_DURATION (s per wrk scenario, default 10), BENCH_WARMUP (minimum s of Sluice warm-up, default
# 10, min 5; warm-up continues in 5 s rounds until Sluice's CPU per request is stable, up to BENCH_WARMUP_MAX=60 s),
# BENCH_TENANTS (default 1000), BENCH_STREAMS (default 1000), BENCH_STREAMS_HIGH (default 4000; 0 = skip),
# BENCH_MAX_CONNECTIONS (Sluice provider pool, default 5000: above the largest stream count, so no request waits
# for a pooled connection — a wait longer than timeouts.connect (2 s) fails with 503).
#
# Feature scenarios (all on by default; set to 0 to skip): BENCH_CORE (P1-P8 above), BENCH_LIMITS (rate limits and
# budgets, in memory and in a private Redis; Redis admit-script decisions/s), BENCH_CACHE (cache hits and misses, in
# memory and in Redis, vs HAProxy: P9), BENCH_USAGE (access log on vs off; jtokkit counting microbenchmark).
# BENCH_FEATURE_SECONDS (s per feature case and round, default 4 = 0.4 × BENCH_DURATION), BENCH_FEATURE_ROUNDS
# (default 2), BENCH_WARMUP_EXTRA_MAX (max s of warm-up of each of the two extra Sluice processes, default 25),
# BENCH_REDIS_TIMEOUT (redis.command-timeout of the Redis-backed gateway; default: the shipped default).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${BENCH_DURATION:-10}
WARM=${BENCH_WARMUP:-10}
[ "$WARM" -ge 5 ] || WARM=5
WARM_MAX=${BENCH_WARMUP_MAX:-60}
TENANTS=${BENCH_TENANTS:-1000}
STREAMS=${BENCH_STREAMS:-1000}
STREAMS_HIGH=${BENCH_STREAMS_HIGH:-4000}
MAXCONN=${BENCH_MAX_CONNECTIONS:-5000}
CORE=${BENCH_CORE:-1}
LIMITS=${BENCH_LIMITS:-1}
CACHE=${BENCH_CACHE:-1}
USAGE=${BENCH_USAGE:-1}
FEAT_SECS=${BENCH_FEATURE_SECONDS:-$(( (DUR * 2 + 4) / 5 ))}
FEAT_ROUNDS=${BENCH_FEATURE_ROUNDS:-2}
WARM_EXTRA_MAX=${BENCH_WARMUP_EXTRA_MAX:-25}
REDIS_TIMEOUT=${BENCH_REDIS_TIMEOUT:-default}
KEY=sk-sluice-bench-0123456789abcdefghijklmnopqrstuvwxyzABCD
KEY_LIM=sk-sluice-bench-limits-0123456789abcdefghijklmnopqrstuvw
KEY_CACHE=sk-sluice-bench-cache-0123456789abcdefghijklmnopqrstuvwx
KEY_FULL=sk-sluice-bench-full-0123456789abcdefghijklmnopqrstuvwxy
PEPPER=bench-pepper-not-secret
JAR=$ROOT/target/sluice.jar
STAMP=$(date +%Y%m%d-%H%M%S)
RUN=$ROOT/bench/results/run-$STAMP
RAW=$RUN/raw.jsonl
SCRIPT_START=$(date +%s)

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup: only what this script started
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ $rc -eq 0 ] || log "failed (exit $rc); logs in $RUN"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- prerequisites
command -v java >/dev/null || die "java not found (need a JDK 17+)"
command -v node >/dev/null || die "node not found (need Node 18+ for the SSE driver and config generator)"
command -v curl >/dev/null || die "curl not found"
APT_UPDATED=0
ensure_tool() { # ensure_tool COMMAND PACKAGE
  command -v "$1" >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  command -v apt-get >/dev/null || die "$1 missing and no apt-get: install '$2' yourself"
  log "installing $2 (apt-get)"
  if [ $APT_UPDATED -eq 0 ]; then $sudo apt-get update -qq >&2 || die "apt-get update failed"; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >&2 || die "apt-get install $2 failed; install it yourself"
  command -v "$1" >/dev/null || die "$1 still not found after installing $2"
}
ensure_tool wrk wrk
ensure_tool haproxy haproxy
if [ "$LIMITS" = 1 ] || [ "$CACHE" = 1 ]; then
  ensure_tool redis-server redis-server   # the Debian package also ships redis-cli and redis-benchmark
  ensure_tool redis-cli redis-tools
fi
if [ "$USAGE" = 1 ]; then command -v javac >/dev/null || die "javac not found (need a JDK 17+ for the token-count microbenchmark)"; fi
if [ ! -f "$JAR" ]; then
  log "building $JAR"
  ./mvnw -q -B package -DskipTests >&2 || die "build failed"
fi

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" -ge 4096 ] || die "ulimit -n is $NOFILE; need >= 4096 for 1,000 connections"
if [ "$STREAMS_HIGH" -gt 0 ] && [ "$NOFILE" -lt $((STREAMS_HIGH * 2 + 1000)) ]; then
  log "ulimit -n $NOFILE too low for $STREAMS_HIGH streams; skipping that level"
  STREAMS_HIGH=0
fi

mkdir -p "$RUN"
: > "$RAW"
log "run directory $RUN"

# ---------------------------------------------------------------- helpers
read -r MOCK_PORT HAP_PORT SLUICE_PORT REDIS_PORT SLUICE_REDIS_PORT SLUICE_LOGOFF_PORT <<<"$(node bench/free-ports.mjs 6)"

wait_port() { # wait_port PORT PID NAME
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || die "$3 exited during start-up (see $RUN)"
    sleep 0.1
  done
  die "$3 did not listen on port $1 within 30 s"
}
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }   # utime+stime, clock ticks
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
CLK_TCK=$(getconf CLK_TCK)

BODY='{"model":"mock","messages":[{"role":"user","content":"Please answer with a short friendly greeting for the benchmark run today."}]}'
check_target() { # check_target NAME PORT
  local out
  out=$(curl -s -m 5 -o "$RUN/check-$1.json" -w '%{http_code}' -H "authorization: Bearer $KEY" \
        -H 'content-type: application/json' -d "$BODY" "http://127.0.0.1:$2/v1/chat/completions") || true
  [ "$out" = 200 ] && grep -q '"chat.completion"' "$RUN/check-$1.json" || die "$1 sanity request failed (HTTP $out)"
}

declare -A PORT=([direct]=$MOCK_PORT [haproxy]=$HAP_PORT [sluice]=$SLUICE_PORT)
declare -A PID

# run_wrk SCENARIO TARGET CONNECTIONS MODEL SECONDS  → appends one JSON line to raw.jsonl (unless SCENARIO=warmup)
run_wrk() {
  local scen=$1 target=$2 conns=$3 model=$4 secs=$5 threads=2
  [ "$conns" -ge 2 ] || threads=1
  local pid=${PID[$target]:-} mock=${PID[direct]}
  local c0 m0 c1 m1 out line
  c0=$([ -n "$pid" ] && [ "$target" != direct ] && cpu_ticks "$pid" || echo 0); m0=$(cpu_ticks "$mock")
  out=$(BENCH_KEY=$KEY BENCH_MODEL=$model timeout $((secs + 20)) \
        wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s -s bench/chat.lua \
        "http://127.0.0.1:${PORT[$target]}" 2>&1) || die "wrk failed for $scen/$target: $out"
  c1=$([ -n "$pid" ] && [ "$target" != direct ] && cpu_ticks "$pid" || echo 0); m1=$(cpu_ticks "$mock")
  echo "$out" >> "$RUN/wrk-$scen-$target.txt"
  [ "$scen" = warmup ] && return 0
  line=$(grep '^RESULT ' <<<"$out" | sed 's/^RESULT //') || die "no wrk result for $scen/$target"
  local rss=0; [ "$target" != direct ] && rss=$(rss_kb "$pid")
  printf '{"kind":"wrk","scenario":"%s","target":"%s","conns":%d,"model":"%s","cpu_s":%s,"mock_cpu_s":%s,"rss_kb":%s,"wrk":%s}\n' \
    "$scen" "$target" "$conns" "$model" "$(awk "BEGIN{print ($c1-$c0)/$CLK_TCK}")" \
    "$(awk "BEGIN{print ($m1-$m0)/$CLK_TCK}")" "${rss:-0}" "$line" >> "$RAW"
  log "$scen $target: $(node -e 'const r=JSON.parse(process.argv[1]);console.log(`${r.rps} req/s, p50 ${r.p50_us/1000} ms, p99 ${r.p99_us/1000} ms, errors ${r.err_connect+r.err_read+r.err_write+r.err_status+r.err_timeout}`)' "$line")"
  sleep 1
}

# run_sse SCENARIO TARGET N MODEL RAMP_MS  → appends one JSON line (unless SCENARIO=warmup)
run_sse() {
  local scen=$1 target=$2 n=$3 model=$4 ramp=$5 out line rsspid=0
  [ "$target" = sluice ] && rsspid=${PID[sluice]}
  [ "$target" = haproxy ] && rsspid=${PID[haproxy]}
  local c0=0 c1=0
  [ "$rsspid" -gt 0 ] && c0=$(cpu_ticks "$rsspid")
  out=$(timeout 90 node bench/sse-client.mjs --url "http://127.0.0.1:${PORT[$target]}/v1/chat/completions" \
        --key "$KEY" --model "$model" --n "$n" --ramp-ms "$ramp" --timeout-ms 30000 --rss-pid "$rsspid" \
        --label "$scen-$target" 2>&1) || die "SSE driver failed for $scen/$target: $out"
  [ "$rsspid" -gt 0 ] && c1=$(cpu_ticks "$rsspid")
  echo "$out" >> "$RUN/sse-$scen-$target.txt"
  [ "$scen" = warmup ] && return 0
  line=$(grep '^RESULT ' <<<"$out" | sed 's/^RESULT //') || die "no SSE result for $scen/$target"
  printf '{"kind":"sse","scenario":"%s","target":"%s","model":"%s","cpu_s":%s,"sse":%s}\n' "$scen" "$target" "$model" \
    "$(awk "BEGIN{print ($c1-$c0)/$CLK_TCK}")" "$line" >> "$RAW"
  log "$scen $target: $(node -e 'const r=JSON.parse(process.argv[1]);console.log(`ok ${r.ok}/${r.n}, max open ${r.max_open}, TTFT p50 ${r.ttft_p50_ms} p99 ${r.ttft_p99_ms} ms, events ${r.events_min}-${r.events_max}${r.rss_max_kb?", peak RSS "+Math.round(r.rss_max_kb/1024)+" MB":""}`)' "$line")"
  sleep 1
}

note() { printf '{"kind":"note","name":"%s","value":%s}\n' "$1" "$2" >> "$RAW"; }

# ---------------------------------------------------------------- start the three servers
log "ports: mock $MOCK_PORT, haproxy $HAP_PORT, sluice $SLUICE_PORT; ulimit -n $NOFILE"
java -Xms256m -Xmx512m -jar "$JAR" mock-upstream --host 127.0.0.1 --port "$MOCK_PORT" --latency 0ms --tps 200 \
  --instances 2 > "$RUN/mock.log" 2>&1 &
PID[direct]=$!; PIDS+=("${PID[direct]}")

cat > "$RUN/haproxy.cfg" <<EOF
global
    maxconn 8000
defaults
    mode http
    option http-keep-alive
    option http-no-delay
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    maxconn 8000
frontend bench
    bind 127.0.0.1:$HAP_PORT
    default_backend mock
backend mock
    server mock1 127.0.0.1:$MOCK_PORT
EOF
haproxy -db -f "$RUN/haproxy.cfg" > "$RUN/haproxy.log" 2>&1 &
PID[haproxy]=$!; PIDS+=("${PID[haproxy]}")

EXTRA_KEYS=(--limits-key "$KEY_LIM" --cache-key "$KEY_CACHE" --full-key "$KEY_FULL")
DIGEST=$(node bench/gen-config.mjs "$RUN/sluice.yaml" "$MOCK_PORT" "$SLUICE_PORT" "$PEPPER" "$KEY" "$TENANTS" "$MAXCONN" "${EXTRA_KEYS[@]}")
CHECK=$(SLUICE_KEY_PEPPER=$PEPPER java -jar "$JAR" hash-key "$KEY")
[ "$DIGEST" = "$CHECK" ] || die "config digest $DIGEST != sluice hash-key $CHECK"
# stdout (access log, one JSON line per request) goes to a file, not a terminal
java -Xms128m -Xmx512m -Xlog:gc:file="$RUN/sluice-gc.log" -jar "$JAR" --config "$RUN/sluice.yaml" > "$RUN/sluice-stdout.log" 2> "$RUN/sluice-stderr.log" &
PID[sluice]=$!; PIDS+=("${PID[sluice]}")

wait_port "$MOCK_PORT" "${PID[direct]}" mock
wait_port "$HAP_PORT" "${PID[haproxy]}" haproxy
wait_port "$SLUICE_PORT" "${PID[sluice]}" sluice
note rss_sluice_start_kb "$(rss_kb "${PID[sluice]}")"
for t in direct haproxy sluice; do check_target "$t" "${PORT[$t]}"; done
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'authorization: Bearer sk-wrong' -H 'content-type: application/json' \
       -d "$BODY" "http://127.0.0.1:$SLUICE_PORT/v1/chat/completions")
[ "$code" = 401 ] || die "Sluice accepted a wrong key (HTTP $code): auth is not on the path"
log "all three targets answer; Sluice rejects a wrong key (401)"

# ---------------------------------------------------------------- warm-up (JIT)
# A fixed few seconds is not enough on a busy 2-core box: C2 keeps compiling for tens of seconds. Warm Sluice in 5 s
# rounds (64 connections, 0 ms) for at least BENCH_WARMUP s and until its CPU per request changes < 15 % between
# rounds (max BENCH_WARMUP_MAX s).
# warm_proc NAME PID PORT MIN_S MAX_S [MIX]: 64 connections, 0 ms, 5 s rounds; MIX is a BENCH_MIX list of request
# kinds (bench/chat.lua), default the plain bench request. Sets WARM_SECS and WARM_US (last round's CPU per request).
warm_proc() {
  local name=$1 pid=$2 port=$3 min=$4 max=$5 mix=${6:-} start=$SECONDS prev=0 i=0 c0 c1 out n us
  while :; do
    i=$((i + 1))
    c0=$(cpu_ticks "$pid")
    out=$(BENCH_KEY=$KEY BENCH_MODEL=mock BENCH_MIX=$mix BENCH_NONCE="warm-$name-$i" timeout 30 \
          wrk -t2 -c64 -d5s --timeout 10s -s bench/chat.lua "http://127.0.0.1:$port" 2>&1) || die "wrk failed during warm-up of $name: $out"
    c1=$(cpu_ticks "$pid")
    echo "$out" >> "$RUN/wrk-warmup-$name.txt"
    n=$(grep '^RESULT ' <<<"$out" | sed 's/.*"requests":\([0-9]*\).*/\1/')
    us=$(awk "BEGIN{print ($n > 0) ? ($c1 - $c0) * 1e6 / $CLK_TCK / $n : 1e9}")
    log "warm-up $name round $i: $n requests in 5 s, CPU $(printf %.1f "$us") µs/request"
    if [ $((SECONDS - start)) -ge "$min" ] && awk "BEGIN{exit !($prev > 0 && $us < 1e9 && ($us - $prev) / $prev < 0.15 && ($prev - $us) / $prev < 0.15)}"; then
      break
    fi
    if [ $((SECONDS - start)) -ge "$max" ]; then log "warm-up $name: CPU per request still changing after $max s"; break; fi
    prev=$us
  done
  WARM_SECS=$((SECONDS - start))
  WARM_US=$us
}
warm_sluice() {
  warm_proc sluice "${PID[sluice]}" "$SLUICE_PORT" "$WARM" "$WARM_MAX"
  note warmup_s "$WARM_SECS"
  note warmup_last_us "$WARM_US"
}
# The other paths (50 ms upstream, streams) are warmed first: warming them after the 0 ms loop made the first P1
# round pay for deoptimisation and recompilation (1.5-2x the CPU per request of the second round).
note load_start "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
if [ "$CORE" = 1 ]; then
  log "warm-up: streams and 50 ms upstream, direct 3 s, haproxy 3 s, then sluice >= ${WARM} s until stable"
  run_sse warmup direct 200 'mock@tps=1000' 200
  run_sse warmup sluice 200 'mock@tps=1000' 200
  run_wrk warmup sluice 250 'mock@latency=50ms' 3
fi
run_wrk warmup direct 64 mock 3
run_wrk warmup haproxy 64 mock 3
warm_sluice
sleep 2
note rss_sluice_warm_idle_kb "$(rss_kb "${PID[sluice]}")"

if [ "$CORE" = 1 ]; then
# ---------------------------------------------------------------- non-streaming scenarios
# P1 + P2 (CPU): two interleaved rounds of DUR/2 per target, so load drift on a shared box hits all three alike
for r in 1 2; do for t in direct haproxy sluice; do run_wrk P1 "$t" 64 mock $(( (DUR + 1) / 2 )); done; done
for r in 1 2; do for t in direct haproxy sluice; do run_wrk P3 "$t" 1 mock $(( (DUR + 1) / 2 )); done; done  # P3
for t in direct haproxy sluice; do run_wrk P4 "$t" 250 'mock@latency=50ms' "$DUR"; done  # P4 (closed loop ≈ 5k req/s)
for t in direct haproxy sluice; do run_wrk P5 "$t" 1000 'mock@latency=50ms' "$DUR"; done # P5

# ---------------------------------------------------------------- streaming
sleep 2
note rss_sluice_idle_kb "$(rss_kb "${PID[sluice]}")"
note rss_haproxy_idle_kb "$(rss_kb "${PID[haproxy]}")"
# P6: 100 streams, 50 ms to first token, ~23 chunks × 20 ms
# three interleaved rounds per target; the report takes the median round
for r in 1 2 3; do for t in direct haproxy sluice; do run_sse P6 "$t" 100 'mock@latency=50ms,tps=50' 100; done; done
# P7: 1,000 slow streams (50 ms to first token, then 125 ms per chunk ≈ 3 s each), starts spread over 1 s
sleep 1
note rss_sluice_before_streams_kb "$(rss_kb "${PID[sluice]}")"
for t in direct haproxy sluice; do run_sse P7 "$t" "$STREAMS" 'mock@latency=50ms,tps=8' 1000; done
if [ "$STREAMS_HIGH" -gt 0 ]; then
  # starts spread over 2 s, streams last ≈ 3 s: all open at once
  for t in direct sluice; do run_sse P7hi "$t" "$STREAMS_HIGH" 'mock@latency=50ms,tps=8' 2000; done
fi
sleep 2
note rss_sluice_after_kb "$(rss_kb "${PID[sluice]}")"
note sluice_access_log_lines "$(wc -l < "$RUN/sluice-stdout.log")"
fi # CORE

# ---------------------------------------------------------------- feature scenarios (limits, cache, usage path)
# shellcheck source=bench/features.sh
source bench/features.sh

# ---------------------------------------------------------------- report
META=$(printf '{"date":"%s","cpus":%d,"cpu_model":"%s","kernel":"%s","java":"%s","haproxy":"%s","wrk":"%s","node":"%s","commit":"%s","duration_s":%d,"warmup_min_s":%d,"tenants":%d,"max_connections":%d,"nofile":%d,"elapsed_s":%d,"load_end":"%s","redis":"%s","core":%d,"limits":%d,"cache":%d,"usage":%d,"feature_s":%d,"feature_rounds":%d,"redis_timeout":"%s"}' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" "$(uname -r)" \
  "$(java -version 2>&1 | head -1 | tr -d '"')" "$(haproxy -v | head -1 | awk '{print $3}')" \
  "$(wrk -v 2>&1 | head -1 | awk '{print $2}')" "$(node --version)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "$DUR" "$WARM" "$TENANTS" "$MAXCONN" "$NOFILE" "$(( $(date +%s) - SCRIPT_START ))" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([0-9.]*\).*/\1/p')" "$CORE" "$LIMITS" "$CACHE" "$USAGE" "$FEAT_SECS" "$FEAT_ROUNDS" "$REDIS_TIMEOUT")
echo "$META" > "$RUN/meta.json"
node bench/report.mjs "$RAW" "$RUN/meta.json" "$RUN/sluice-gc.log" > "$RUN/results.md"
cp "$RUN/results.md" "$ROOT/bench/results/latest.md"
cat "$RUN/results.md"
log "done in $(( $(date +%s) - SCRIPT_START )) s; results in bench/results/latest.md"
