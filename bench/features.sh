# Sourced by bench/run.sh after the core scenarios (uses its helpers and variables): the feature scenarios.
#
# Every case is wrk, 2 threads, 64 connections, 0 ms upstream, FEAT_SECS s, repeated FEAT_ROUNDS times; the order is
# reversed every other round (A B C … C B A), so slow drift of the shared machine hits every case alike. Each case
# records req/s and latency (wrk), the serving process's own CPU (/proc), and for Redis-backed processes the Redis
# server's CPU and command count. /metrics is scraped before and after every case to prove what was measured
# (cache results, Redis errors, fail-open decisions, rate-limit rejections).
#
# Processes: "sluice" is the main gateway of the core scenarios (in-memory limiter, budgets, ledger and cache);
# "sluice_redis" is the same build and config with redis.url set to a private redis-server; "sluice_logoff" is the
# main config with SLUICE_ACCESS_LOG_LEVEL=OFF. Tenants (bench/gen-config.mjs): the bench key has no features;
# bench-limits / bench-cache / bench-full carry limits+budget+price / cache / all of them.

[ "$LIMITS" = 1 ] || [ "$CACHE" = 1 ] || [ "$USAGE" = 1 ] || return 0

# ---------------------------------------------------------------- cases: name → process|key|model|temperature|unique
declare -A CASE
ORDER=()
add_case() { CASE[$1]="$2|$3|$4|$5|$6"; ORDER+=("$1"); }
if [ "$CACHE" = 1 ]; then add_case haproxy haproxy "$KEY" mock "" 0; fi
add_case off sluice "$KEY" mock "" 0                       # no limits, no cache (DISABLED), access log on
if [ "$LIMITS" = 1 ]; then
  add_case lim_mem sluice "$KEY_LIM" mock-priced "" 0
fi
if [ "$CACHE" = 1 ]; then
  add_case off_unique sluice "$KEY" mock 0 1                 # cache DISABLED, same per-request unique bodies as the misses
  add_case hit_mem sluice "$KEY_CACHE" mock 0 0
  add_case miss_mem sluice "$KEY_CACHE" mock 0 1
fi
if [ "$LIMITS" = 1 ] && [ "$CACHE" = 1 ]; then add_case full_mem sluice "$KEY_FULL" mock-priced 0 1; fi
if [ "$USAGE" = 1 ]; then add_case log_off sluice_logoff "$KEY" mock "" 0; fi
if [ "$LIMITS" = 1 ] || [ "$CACHE" = 1 ]; then add_case off_redis sluice_redis "$KEY" mock "" 0; fi
if [ "$LIMITS" = 1 ]; then add_case lim_redis sluice_redis "$KEY_LIM" mock-priced "" 0; fi
if [ "$CACHE" = 1 ]; then
  add_case hit_redis sluice_redis "$KEY_CACHE" mock 0 0
  add_case miss_redis sluice_redis "$KEY_CACHE" mock 0 1
fi
if [ "$LIMITS" = 1 ] && [ "$CACHE" = 1 ]; then add_case full_redis sluice_redis "$KEY_FULL" mock-priced 0 1; fi

procs_needed() { local n; for n in "${ORDER[@]}"; do cut -d'|' -f1 <<<"${CASE[$n]}"; done | sort -u; }
needs() { local all; all=$(procs_needed); grep -qx "$1" <<<"$all"; }

# ---------------------------------------------------------------- extra servers
sleep 2
if needs sluice_redis; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --maxmemory 1gb \
    --maxmemory-policy allkeys-lru > "$RUN/redis.log" 2>&1 &
  PID[redis]=$!; PIDS+=("${PID[redis]}")
  wait_port "$REDIS_PORT" "${PID[redis]}" redis-server
  [ "$(redis-cli -p "$REDIS_PORT" ping)" = PONG ] || die "private redis-server on $REDIS_PORT does not answer PING"
  node bench/gen-config.mjs "$RUN/sluice-redis.yaml" "$MOCK_PORT" "$SLUICE_REDIS_PORT" "$PEPPER" "$KEY" "$TENANTS" \
    "$MAXCONN" "${EXTRA_KEYS[@]}" --redis "redis://127.0.0.1:$REDIS_PORT" --redis-timeout "$REDIS_TIMEOUT" > /dev/null
  java -Xms128m -Xmx512m -Xlog:gc:file="$RUN/sluice_redis-gc.log" -jar "$JAR" --config "$RUN/sluice-redis.yaml" \
    > "$RUN/sluice_redis-stdout.log" 2> "$RUN/sluice_redis-stderr.log" &
  PID[sluice_redis]=$!; PIDS+=("${PID[sluice_redis]}"); PORT[sluice_redis]=$SLUICE_REDIS_PORT
fi
if needs sluice_logoff; then
  SLUICE_ACCESS_LOG_LEVEL=OFF SLUICE_PORT=$SLUICE_LOGOFF_PORT java -Xms128m -Xmx512m \
    -Xlog:gc:file="$RUN/sluice_logoff-gc.log" -jar "$JAR" --config "$RUN/sluice.yaml" \
    > "$RUN/sluice_logoff-stdout.log" 2> "$RUN/sluice_logoff-stderr.log" &
  PID[sluice_logoff]=$!; PIDS+=("${PID[sluice_logoff]}"); PORT[sluice_logoff]=$SLUICE_LOGOFF_PORT
fi
for p in sluice_redis sluice_logoff; do
  # TCP connect only: no HTTP request may reach a gateway that is still deploying its event loops
  if needs "$p"; then wait_port "${PORT[$p]}" "${PID[$p]}" "$p"; fi
done
PORT[sluice]=$SLUICE_PORT

# ---------------------------------------------------------------- helpers
# metrics_snap PROC → one JSON object of counters from the process's /metrics ({} for HAProxy)
metrics_snap() {
  [ "$1" = haproxy ] && { echo '{}'; return; }
  curl -s -m 10 "http://127.0.0.1:${PORT[$1]}/metrics" | awk '
    /^llm_cache_requests_total\{/ { if (match($0, /result="[A-Z]+"/)) c[substr($0, RSTART + 8, RLENGTH - 9)] += $NF }
    /^llm_redis_errors_total\{/ { e += $NF }
    /^llm_ratelimit_degraded_total\{/ { d += $NF }
    /^llm_ratelimit_rejections_total\{/ { j += $NF }
    /^llm_requests_total\{/ { if ($0 ~ /status="2/) ok += $NF; else bad += $NF }
    END { printf "{\"HIT\":%d,\"MISS\":%d,\"REFRESH\":%d,\"BYPASS\":%d,\"DISABLED\":%d,\"redis_errors\":%d,\"degraded\":%d,\"rejections\":%d,\"status_2xx\":%d,\"status_other\":%d}\n",
      c["HIT"], c["MISS"], c["REFRESH"], c["BYPASS"], c["DISABLED"], e, d, j, ok, bad }'
}
redis_cmds() { redis-cli -p "$REDIS_PORT" info stats | awk -F: '/^total_commands_processed:/ {print $2 + 0}'; }

# run_case ROUND NAME [SECONDS] → appends {"kind":"case",…} to raw.jsonl (round 0 is a warm-up round: the report
# ignores it). The "after" snapshot of one case is the "before" of
# the next case on the same process (nothing else talks to it in between), which saves one scrape per case.
declare -A SNAP
run_case() {
  local round=$1 name=$2 secs=${3:-$FEAT_SECS} proc key model temp uniq
  IFS='|' read -r proc key model temp uniq <<<"${CASE[$name]}"
  local pid=${PID[$proc]} port=${PORT[$proc]} redis=0
  [ "$proc" = sluice_redis ] && redis=1
  local m0 m1 c0 c1 r0=0 r1=0 k0=0 k1=0 out line cpu
  m0=${SNAP[$proc]:-$(metrics_snap "$proc")}
  if [ $redis = 1 ]; then r0=$(cpu_ticks "${PID[redis]}"); k0=$(redis_cmds); fi
  c0=$(cpu_ticks "$pid")
  out=$(BENCH_KEY=$key BENCH_MODEL=$model BENCH_TEMPERATURE=$temp BENCH_UNIQUE=$uniq BENCH_NONCE="$STAMP-$round-$name" \
        timeout $((secs + 20)) wrk -t2 -c64 -d"${secs}s" --timeout 10s -s bench/chat.lua \
        "http://127.0.0.1:$port" 2>&1) || die "wrk failed for $name: $out"
  c1=$(cpu_ticks "$pid")
  if [ $redis = 1 ]; then r1=$(cpu_ticks "${PID[redis]}"); k1=$(redis_cmds); fi
  m1=$(metrics_snap "$proc"); SNAP[$proc]=$m1
  echo "$out" >> "$RUN/wrk-feature-$name.txt"
  line=$(grep '^RESULT ' <<<"$out" | sed 's/^RESULT //') || die "no wrk result for $name"
  cpu=$(awk "BEGIN{print ($c1-$c0)/$CLK_TCK}")
  printf '{"kind":"case","case":"%s","round":%d,"proc":"%s","model":"%s","temperature":"%s","unique":%d,"cpu_s":%s,"redis_cpu_s":%s,"redis_cmds":%d,"rss_kb":%d,"m0":%s,"m1":%s,"wrk":%s}\n' \
    "$name" "$round" "$proc" "$model" "$temp" "$uniq" "$cpu" "$(awk "BEGIN{print ($r1-$r0)/$CLK_TCK}")" $((k1 - k0)) \
    "$(rss_kb "$pid")" "$m0" "$m1" "$line" >> "$RAW"
  log "feature $name (round $round): $(printf '%s\n%s\n%s\n' "$line" "$m0" "$m1" | awk -v cpu="$cpu" -F'[{}:,"]+' '
    { for (i = 2; i < NF; i += 2) v[NR, $i] = $(i + 1) }
    END {
      printf "%.0f req/s, p99 %.1f ms, CPU %.1f µs/req, wrk errors %d", v[1, "rps"], v[1, "p99_us"] / 1000,
        cpu * 1e6 / v[1, "requests"], v[1, "err_connect"] + v[1, "err_read"] + v[1, "err_write"] + v[1, "err_status"] + v[1, "err_timeout"]
      n = split("HIT MISS DISABLED BYPASS REFRESH redis_errors degraded rejections", k, " ")
      for (i = 1; i <= n; i++) { d = v[3, k[i]] - v[2, k[i]]; if (d) printf "; %s %d", k[i], d }
    }')"
  sleep 0.5
}

# curl_case NAME → response headers of one request of that case (lower-cased), body to a file
curl_case() {
  local proc key model temp uniq body
  IFS='|' read -r proc key model temp uniq <<<"${CASE[$1]}"
  body="{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"Please answer with a short friendly greeting for the benchmark run today.$([ "$uniq" = 1 ] && echo " #check-$RANDOM$RANDOM")\"}]$([ -n "$temp" ] && echo ",\"temperature\":$temp")}"
  curl -s -m 5 -D - -o "$RUN/check-$1.json" -H "authorization: Bearer $key" -H 'content-type: application/json' \
    -d "$body" "http://127.0.0.1:${PORT[$proc]}/v1/chat/completions" | tr -d '\r' | tr 'A-Z' 'a-z'
}
expect_case() { # expect_case NAME REGEX… : every regex must match the response headers
  local name=$1 h; shift
  h=$(curl_case "$name")
  for re in "$@"; do grep -qE "$re" <<<"$h" || die "feature check $name: no '$re' in response headers: $(head -c 600 <<<"$h")"; done
}

# ---------------------------------------------------------------- warm-up (JIT) of every new path
mix_of() { # mix_of PROC → BENCH_MIX list of the cases served by PROC
  local n proc key model temp uniq out=""
  for n in "${ORDER[@]}"; do
    IFS='|' read -r proc key model temp uniq <<<"${CASE[$n]}"
    [ "$proc" = "$1" ] && out+="$key,$model,$temp,$uniq;"
  done
  echo "${out%;}"
}
log "feature scenarios: ${ORDER[*]} (${FEAT_ROUNDS} rounds × ${FEAT_SECS} s, 64 connections, 0 ms upstream)"
# the main gateway is warm for the bench tenant; its new paths (limits, cache, full) get 10-15 s
warm_proc sluice_features "${PID[sluice]}" "$SLUICE_PORT" 10 10 "$(mix_of sluice)"
note warmup_features_s "$WARM_SECS"
# Both fresh processes serve the same tenants and get the same warm-up (the Redis process's request mix; in memory on
# the log-off process), one after the other (two cold JVMs warming at once on 2 cores starve each other's JIT
# compiler threads: 10x slower), so the log-off process can be compared with an equally young access-log-on process.
mix=$(mix_of sluice_redis); [ -n "$mix" ] || mix="$KEY,mock,,0"
for p in sluice_redis sluice_logoff; do
  if needs "$p"; then
    warm_proc "$p" "${PID[$p]}" "${PORT[$p]}" 15 "$WARM_EXTRA_MAX" "$mix"
    note "warmup_${p}_s" "$WARM_SECS"; note "warmup_${p}_last_us" "$WARM_US"
  fi
done

# ---------------------------------------------------------------- checks: each case exercises what it claims to
for n in "${ORDER[@]}"; do
  case $n in
    haproxy) ;;
    off|off_redis|log_off|off_unique) expect_case "$n" '^http/1.1 200' '^x-sluice-cache: disabled' ;;
    lim_*) expect_case "$n" '^http/1.1 200' '^x-ratelimit-limit-requests: 1000000000' '^x-ratelimit-limit-tokens: 1000000000' '^x-sluice-cache: disabled' ;;
    hit_*) curl_case "$n" > /dev/null; expect_case "$n" '^http/1.1 200' '^x-sluice-cache: hit' ;;  # 1st may store
    miss_*) expect_case "$n" '^http/1.1 200' '^x-sluice-cache: miss' ;;
    full_*) expect_case "$n" '^http/1.1 200' '^x-sluice-cache: miss' '^x-ratelimit-limit-requests: 1000000000' ;;
  esac
done
# cost is computed and booked for the priced tenants (the gateway sends no x-sluice-cost-usd header yet)
for n in lim_mem lim_redis full_mem full_redis; do
  [ -n "${CASE[$n]:-}" ] || continue
  p=$(cut -d'|' -f1 <<<"${CASE[$n]}"); t=bench-limits; [[ $n == full_* ]] && t=bench-full
  metrics=$(curl -s -m 10 "http://127.0.0.1:${PORT[$p]}/metrics")   # not piped into grep -q: SIGPIPE + pipefail
  grep -qE "^llm_cost_usd_total\{model=\"mock-priced\",tenant=\"$t\"\} [0-9.]*[1-9]" <<<"$metrics" \
    || die "feature check $n: no cost booked for $t (llm_cost_usd_total)"
done
if needs sluice_redis; then
  rkeys() { redis-cli -p "$REDIS_PORT" --scan --pattern "$1" | awk 'END {print NR}'; }   # reads all: no SIGPIPE
  if [ "$LIMITS" = 1 ] && [ "$(rkeys 'sluice:rl:*')" -eq 0 ]; then die "no rate-limit keys in the private Redis"; fi
  if [ "$CACHE" = 1 ] && [ "$(rkeys 'sluice:cache:*')" -eq 0 ]; then die "no cache entries in the private Redis"; fi
fi
log "feature checks passed: every case answers 200 with the expected x-sluice-cache / x-ratelimit-* / cost headers"

# ---------------------------------------------------------------- measured rounds
# Round 0 (2 s per case, not reported) runs the exact case sequence once: switching between request kinds after the
# mixed warm-up still made the first pass pay for JIT recompilation (up to 2x the CPU per request of the next pass).
for n in "${ORDER[@]}"; do run_case 0 "$n" 2; done
for r in $(seq "$FEAT_ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then list=("${ORDER[@]}"); else list=(); for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do list+=("${ORDER[$i]}"); done; fi
  for n in "${list[@]}"; do run_case "$r" "$n"; done
done
note load_after_features "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
for p in sluice sluice_redis sluice_logoff; do if needs "$p"; then note "rss_${p}_after_features_kb" "$(rss_kb "${PID[$p]}")"; fi; done
if needs sluice_logoff; then note logoff_access_log_lines "$(grep -c '"request_id"' "$RUN/sluice_logoff-stdout.log" || true)"; fi
if needs sluice_redis; then
  note redis_used_memory_mb "$(redis-cli -p "$REDIS_PORT" info memory | awk -F: '/^used_memory:/ {printf "%.1f", $2 / 1048576}')"
  note redis_keys "$(redis-cli -p "$REDIS_PORT" dbsize)"
fi

# ---------------------------------------------------------------- Redis: admit.lua decisions per second
if [ "$LIMITS" = 1 ]; then
  if command -v redis-benchmark >/dev/null; then
    SHA=$(redis-cli -p "$REDIS_PORT" SCRIPT LOAD "$(cat src/main/resources/dev/sluice/ratelimit/admit.lua)")
    [[ "$SHA" =~ ^[0-9a-f]{40}$ ]] || die "SCRIPT LOAD of admit.lua failed: $SHA"
    # redis_bench NAME N ARGS… → {"kind":"redisbench",…}: ops/s from redis-benchmark (50 clients, no pipelining),
    # redis-server CPU per op from /proc
    redis_bench() {
      local name=$1 n=$2 c0 c1 out rps p50 p99; shift 2
      c0=$(cpu_ticks "${PID[redis]}")
      out=$(timeout 60 redis-benchmark -p "$REDIS_PORT" -n "$n" -c 50 -r 100000000 --csv "$@" 2>&1) || die "redis-benchmark $name failed: $out"
      c1=$(cpu_ticks "${PID[redis]}")
      echo "$out" >> "$RUN/redis-benchmark.txt"
      read -r rps p50 p99 < <(awk -F'","' 'NR == 2 {print $2, $5, $7}' <<<"$out")
      printf '{"kind":"redisbench","name":"%s","n":%d,"ops_s":%s,"p50_ms":%s,"p99_ms":%s,"redis_cpu_s":%s}\n' "$name" "$n" \
        "${rps:-0}" "${p50:-0}" "${p99:-0}" "$(awk "BEGIN{print ($c1-$c0)/$CLK_TCK}")" >> "$RAW"
      log "redis-benchmark $name: ${rps:-?} ops/s (p50 ${p50:-?} ms, p99 ${p99:-?} ms), Redis CPU $(awk "BEGIN{printf \"%.1f\", ($c1-$c0)/$CLK_TCK*1e6/$n}") µs/op"
    }
    # ARGV: rpm, tpm, token cost, max in flight, request id, lease ms, bucket ttl ms, request burst, token burst
    redis_bench set 50000 SET 'bench:k:__rand_int__' x
    redis_bench admit_buckets 50000 EVALSHA "$SHA" 3 'sluice:rl:{t:rb1}:req' 'sluice:rl:{t:rb1}:tok' 'sluice:rl:{t:rb1}:inflight' \
      1000000000 1000000000 1 0 id 900000 120000 1000000000 1000000000
    redis_bench admit_inflight 50000 EVALSHA "$SHA" 3 'sluice:rl:{t:rb2}:req' 'sluice:rl:{t:rb2}:tok' 'sluice:rl:{t:rb2}:inflight' \
      1000000000 1000000000 1 100000000 'id-__rand_int__' 900000 120000 1000000000 1000000000
  else
    log "redis-benchmark not found: admit.lua decisions/s not measured"
  fi
fi

# ---------------------------------------------------------------- jtokkit: TokenCounter.countMessages microbenchmark
if [ "$USAGE" = 1 ]; then
  mkdir -p "$RUN/tokbench"
  javac -cp "$JAR" -d "$RUN/tokbench" bench/TokenCountBench.java || die "javac bench/TokenCountBench.java failed"
  out=$(timeout 90 java -Xms256m -Xmx256m -cp "$JAR:$RUN/tokbench" TokenCountBench 2000 5 500 2>&1) || die "TokenCountBench failed: $out"
  echo "$out" > "$RUN/tokbench.txt"
  grep '^RESULT ' <<<"$out" | sed 's/^RESULT \(.*\)$/{"kind":"tokens","r":\1}/' >> "$RAW"
  while read -r l; do log "token count: $l"; done < <(grep '^RESULT ' <<<"$out" | sed 's/^RESULT //')
fi
