#!/usr/bin/env bash
# The Redis-backed full hot path against the in-memory one, in the same run (under 2 minutes: 2 × 6 s warm-up,
# 4 × 10 s measured, a 2 s MONITOR sample, plus the JVM starts).
#
# Both gateways are the same jar and config (bench/gen-config.mjs, tenant bench-full: request/token limits, in-flight
# cap, daily budget, priced model, cache on with a unique prompt per request, so every request is a cache miss that is
# stored); one keeps everything in memory, the other in a private redis-server with the shipped redis.command-timeout
# (the key is left out of its config). wrk: 2 threads, 64 connections, 0 ms mock upstream; the cases run
# mem, redis, redis, mem (BENCH_SECS each) after BENCH_WARM_SECS of warm-up per gateway, so drift hits both alike.
# Reported per case: req/s, the gateway's CPU per request (/proc utime+stime), and for Redis: commands per request
# (INFO commandstats after CONFIG RESETSTAT; commands run inside scripts count under their own names, EVALSHA once),
# round trips per request (commands sent by clients, from a 2 s MONITOR sample: lines not marked "lua"), Redis's own
# CPU per request, fail-open decisions (llm_ratelimit_degraded_total) and Redis errors (llm_redis_errors_total).
# Usage: bench/redis.sh   (needs java 17, node, wrk, redis-server, redis-cli; builds target/sluice.jar if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SECS:-10}
WARM_SECS=${BENCH_WARM_SECS:-6}
JAR=target/sluice.jar
KEY=sk-sluice-bench-0123456789abcdefghijklmnopqrstuvwxyzABCD
KEY_FULL=sk-sluice-bench-full-0123456789abcdefghijklmnopqrstuvwxy
PEPPER=bench-pepper-not-secret
RUN=$(mktemp -d /tmp/sluice-bench-redis.XXXXXX)
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
for tool in java node wrk redis-server redis-cli curl; do command -v "$tool" > /dev/null || die "$tool not found"; done
[ -f "$JAR" ] || ./mvnw -q -B -o package -DskipTests || die "cannot build $JAR"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; }
trap cleanup EXIT
read -r MOCK_PORT MEM_PORT RED_PORT REDIS_PORT <<<"$(node bench/free-ports.mjs 4)"
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.1; done; die "nothing on port $1"; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
CLK_TCK=$(getconf CLK_TCK)
counter() { curl -s -m 10 "http://127.0.0.1:$1/metrics" | awk -v name="$2" 'index($0, name "{") == 1 || index($0, name " ") == 1 { s += $NF } END { printf "%d\n", s }'; }
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

log "run directory $RUN; load average $(cut -d' ' -f1-3 /proc/loadavg)"
java -Xms256m -Xmx512m -jar "$JAR" mock-upstream --host 127.0.0.1 --port "$MOCK_PORT" --latency 0ms --tps 200 \
  --instances 2 > "$RUN/mock.log" 2>&1 &
PIDS+=($!)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --maxmemory 1gb \
  --maxmemory-policy allkeys-lru > "$RUN/redis.log" 2>&1 &
REDIS_PID=$!; PIDS+=("$REDIS_PID")
wait_port "$REDIS_PORT"
node bench/gen-config.mjs "$RUN/mem.yaml" "$MOCK_PORT" "$MEM_PORT" "$PEPPER" "$KEY" 1000 5000 --full-key "$KEY_FULL" > /dev/null
node bench/gen-config.mjs "$RUN/redis.yaml" "$MOCK_PORT" "$RED_PORT" "$PEPPER" "$KEY" 1000 5000 --full-key "$KEY_FULL" \
  --redis "redis://127.0.0.1:$REDIS_PORT" --redis-timeout default > /dev/null
declare -A PID PORT=([mem]=$MEM_PORT [redis]=$RED_PORT)
for g in mem redis; do
  java -Xms128m -Xmx512m -jar "$JAR" --config "$RUN/$g.yaml" > "$RUN/$g-stdout.log" 2> "$RUN/$g-stderr.log" &
  PID[$g]=$!; PIDS+=("${PID[$g]}")
done
wait_port "$MOCK_PORT"; wait_port "$MEM_PORT"; wait_port "$RED_PORT"
for _ in $(seq 300); do   # the listener opens before Redis is warmed: wait for readiness, as a load balancer would
  ready=$(curl -s -m 5 "http://127.0.0.1:$RED_PORT/health/ready" || true)
  grep -q '"redis":"up"' <<<"$ready" && break
  sleep 0.1
done
grep -q '"redis":"up"' <<<"$ready" || die "the Redis-backed gateway is not ready on Redis: $ready"
log "redis-backed gateway ready: $ready"

wrk_full() { # wrk_full GATEWAY SECONDS NONCE → the RESULT json
  BENCH_KEY=$KEY_FULL BENCH_MODEL=mock-priced BENCH_TEMPERATURE=0 BENCH_UNIQUE=1 BENCH_NONCE="$3" \
    timeout $(($2 + 20)) wrk -t2 -c64 -d"$2s" --timeout 10s -s bench/chat.lua "http://127.0.0.1:${PORT[$1]}" 2>&1 \
    | tee -a "$RUN/wrk-$1.txt" | sed -n 's/^RESULT //p'
}
for g in mem redis; do log "warm-up $g ${WARM_SECS}s"; wrk_full "$g" "$WARM_SECS" "warm-$g-$$" > /dev/null; done
# the gateway's own counters of commands and failures; excluded: this script's INFO/CONFIG
redis_calls() { rcli info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ && $1 !~ /^cmdstat_(info|config)/ { s += $3 } END { print s + 0 }'; }

RESULTS="$RUN/results.jsonl"; : > "$RESULTS"
round=0
for g in mem redis redis mem; do
  round=$((round + 1))
  f0=$(counter "${PORT[$g]}" llm_ratelimit_degraded_total); e0=$(counter "${PORT[$g]}" llm_redis_errors_total)
  [ "$g" = redis ] && { rcli config resetstat > /dev/null; r0=$(cpu_ticks "$REDIS_PID"); }
  c0=$(cpu_ticks "${PID[$g]}")
  res=$(wrk_full "$g" "$SECS" "run-$g-$round-$$")
  c1=$(cpu_ticks "${PID[$g]}")
  cmds=0; rcpu=0
  if [ "$g" = redis ]; then
    r1=$(cpu_ticks "$REDIS_PID"); cmds=$(redis_calls); rcpu=$(awk "BEGIN{print ($r1-$r0)/$CLK_TCK}")
    rcli info commandstats | tr -d '\r' | grep '^cmdstat_' > "$RUN/commandstats-$round.txt"
  fi
  f1=$(counter "${PORT[$g]}" llm_ratelimit_degraded_total); e1=$(counter "${PORT[$g]}" llm_redis_errors_total)
  echo "{\"case\":\"$g\",\"round\":$round,\"cpu_s\":$(awk "BEGIN{print ($c1-$c0)/$CLK_TCK}"),\"redis_cmds\":$cmds,\"redis_cpu_s\":$rcpu,\"fail_open\":$((f1 - f0)),\"redis_errors\":$((e1 - e0)),\"wrk\":$res}" >> "$RESULTS"
  log "$g round $round: $res"
done

# Round trips: a short MONITOR sample of the same load (MONITOR slows Redis, so it is not part of the measured rounds).
sf0=$(counter "$RED_PORT" llm_ratelimit_degraded_total)
rcli monitor > "$RUN/monitor.txt" 2> /dev/null &
MON=$!; PIDS+=("$MON")
sleep 0.3
sample=$(wrk_full redis 2 "monitor-$$")
kill "$MON" 2> /dev/null || true
sf1=$(counter "$RED_PORT" llm_ratelimit_degraded_total)
total=$(grep -c '^[0-9]' "$RUN/monitor.txt" || true)
inner=$(grep -c ' lua\]' "$RUN/monitor.txt" || true)
sample_requests=$(node -e 'console.log(JSON.parse(process.argv[1]).requests)' "$sample")
echo "{\"case\":\"monitor\",\"commands\":$total,\"inside_scripts\":$inner,\"requests\":$sample_requests,\"fail_open\":$((sf1 - sf0))}" >> "$RESULTS"

node - "$RESULTS" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(rcli info server | tr -d '\r' | awk -F: '/^redis_version/ {print $2}')" <<'JS'
const fs = require('fs');
const [file, load, version] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map(JSON.parse);
const sum = (c, f) => rows.filter(r => r.case === c).reduce((a, r) => a + f(r), 0);
const stats = {};
for (const c of ['mem', 'redis']) {
  const req = sum(c, r => r.wrk.requests), secs = sum(c, r => r.wrk.duration_us) / 1e6;
  stats[c] = { rps: req / secs, cpu_us: sum(c, r => r.cpu_s) * 1e6 / req, requests: req,
    p99_ms: Math.max(...rows.filter(r => r.case === c).map(r => r.wrk.p99_us)) / 1000,
    errors: sum(c, r => r.wrk.err_connect + r.wrk.err_read + r.wrk.err_write + r.wrk.err_status + r.wrk.err_timeout) };
}
const redis = stats.redis, mem = stats.mem, mon = rows.find(r => r.case === 'monitor');
const out = {
  load_average_end: load, redis_version: version,
  mem_rps: Math.round(mem.rps), redis_rps: Math.round(redis.rps), throughput_ratio: +(redis.rps / mem.rps).toFixed(2),
  mem_cpu_us_per_req: +mem.cpu_us.toFixed(1), redis_cpu_us_per_req: +redis.cpu_us.toFixed(1),
  redis_server_cpu_us_per_req: +(sum('redis', r => r.redis_cpu_s) * 1e6 / redis.requests).toFixed(1),
  redis_commands_per_req: +(sum('redis', r => r.redis_cmds) / redis.requests).toFixed(2),
  redis_round_trips_per_req: +((mon.commands - mon.inside_scripts) / mon.requests).toFixed(2),
  monitor_commands_per_req: +(mon.commands / mon.requests).toFixed(2),
  // a request that failed open made no admission/settlement round trips: per request that was decided on Redis
  monitor_fail_open: mon.fail_open,
  round_trips_per_redis_decided_req: +((mon.commands - mon.inside_scripts) / Math.max(1, mon.requests - mon.fail_open)).toFixed(2),
  commands_per_redis_decided_req: +(mon.commands / Math.max(1, mon.requests - mon.fail_open)).toFixed(2),
  fail_open: sum('redis', r => r.fail_open), redis_errors: sum('redis', r => r.redis_errors),
  p99_ms: { mem: mem.p99_ms, redis: redis.p99_ms }, wrk_errors: { mem: mem.errors, redis: redis.errors },
};
console.log(JSON.stringify(out, null, 2));
JS
log "raw results and logs in $RUN"
