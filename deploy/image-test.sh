#!/usr/bin/env bash
# Proves the container image end to end with podman (no Docker daemon needed; runs as root):
#   1. a base image: RUNTIME_IMAGE if given, else a minimal Debian (this machine's release, from the Debian mirror
#      apt is configured with) + OpenJDK 17 JRE, bootstrapped with debootstrap and cached as
#      localhost/sluice-base-debian-jre17:<hash of the recipe> (a second run skips the bootstrap);
#   2. `podman build` of the repo's Dockerfile with the base images as build arguments, packaging the jar built on
#      the host (target/sluice.jar, as `./mvnw -B verify` leaves it; built when missing) or, with --from-source,
#      compiling in the Dockerfile's build stage (on a local Debian + JDK 17 base; downloads Maven and the
#      dependencies);
#   3. a run as the image's user (uid 10001) with a read-only root filesystem (a tmpfs on /tmp only), all
#      capabilities dropped, on a free loopback port: /health/ready, the image's HEALTHCHECK, a chat completion on
#      the embedded default (demo key from SLUICE_DEMO_KEY), a 401 without a key, then SIGTERM while a stream is in
#      flight: the stream must finish with [DONE], the log must show the drain and the exit code must be 143 (the
#      JVM's exit after its shutdown hook ran; 137 would mean it had to be killed). The HEALTHCHECK is run once by
#      `podman healthcheck run` (podman's periodic timer needs systemd, absent here: its complaint is filtered).
# Any failed step stops the script with a message naming the step, and prints the container's log.
#
# Usage: deploy/image-test.sh [--from-source] [--keep-image] [--base-only]
#   --base-only prepares (or finds cached) the base images and stops: CI runs it while the tests run.
# Environment: RUNTIME_IMAGE, BUILD_IMAGE (base images; defaults: the local Debian bases above),
#              SLUICE_IMAGE (tag to build; default localhost/sluice:image-test), IMAGE_TEST_TIMEOUT (seconds for the
#              readiness wait; default 120).
# Host flags used on every podman call: --runtime runc (crun fails on hybrid cgroups), host networking and explicit
# --ulimit values (podman's default ulimits may exceed what the host allows).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

from_source=0
keep_image=0
base_only=0
for arg in "$@"; do
  case "$arg" in
    --from-source) from_source=1 ;;
    --keep-image) keep_image=1 ;;
    --base-only) base_only=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "image-test: unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

image="${SLUICE_IMAGE:-localhost/sluice:image-test}"
jar_image="localhost/sluice-jar:image-test-$$"
ready_timeout="${IMAGE_TEST_TIMEOUT:-120}"
podman=(podman --runtime runc)
limits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
container="sluice-image-test-$$"
step="start"
started=$SECONDS
step_started=$SECONDS

say() { echo "image-test: $*"; }
# podman 4.3 schedules health checks with systemd timers and logs an error where systemd does not run (harmless).
no_systemd_noise() { "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }
begin() {
  step="$1"
  step_started=$SECONDS
  say "$step"
}
done_step() { say "  ok (${1:-$((SECONDS - step_started))} s)"; }
fail() {
  echo "image-test: FAILED at step '$step': $*" >&2
  exit 1
}
on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && "${podman[@]}" container exists "$container" 2>/dev/null; then
    echo "image-test: container log ($container):" >&2
    "${podman[@]}" logs "$container" 2>&1 | tail -n 60 | sed 's/^/  | /' >&2 || true
  fi
  "${podman[@]}" rm -f -t 0 "$container" >/dev/null 2>&1 || true
  "${podman[@]}" rmi -f "$jar_image" >/dev/null 2>&1 || true
  if [ "$keep_image" = 0 ] && [ "$base_only" = 0 ]; then "${podman[@]}" rmi -f "$image" >/dev/null 2>&1 || true; fi
  [ -n "${rootfs:-}" ] && cleanup_rootfs
  if [ "$rc" != 0 ]; then echo "image-test: FAILED (exit $rc) at step '$step' after $((SECONDS - started)) s" >&2; fi
}
trap on_exit EXIT
trap 'exit 143' TERM INT

for tool in podman runc curl; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (apt-get install podman runc curl)"
done

# ---------------------------------------------------------------------------------------------------------------
# Base images: Debian minbase + OpenJDK 17 from the Debian mirror apt already uses (no other registry is needed).
# The tag carries a hash of this recipe, so a changed recipe bootstraps anew and an unchanged one is reused.
rootfs=""
cleanup_rootfs() {
  if [ -n "$rootfs" ] && [ -d "$rootfs" ]; then
    for m in proc sys dev/pts dev; do umount -l "$rootfs/$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$rootfs"
  fi
  rootfs=""
}

debian_mirror() {
  local codename="$1"
  apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>/dev/null \
    | awk -v c="$codename" '$1 == "deb" && $2 == c { print $3; exit }'
}

# bootstrap_base NAME PACKAGES: builds localhost/NAME:<hash> unless present; sets base_ref to it.
base_ref=""
bootstrap_base() {
  local name="$1" packages="$2" codename arch recipe hash ref mirror
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}")"
  arch="$(dpkg --print-architecture)"
  recipe="v1 $codename $arch minbase $packages $(declare -f bootstrap_base)"
  hash="$(printf '%s' "$recipe" | sha256sum | cut -c1-12)"
  ref="localhost/$name:$hash"
  if "${podman[@]}" image exists "$ref"; then
    say "  base image $ref is cached"
    base_ref="$ref"
    return
  fi
  command -v debootstrap >/dev/null 2>&1 || fail "debootstrap is not installed (apt-get install debootstrap)"
  mirror="$(debian_mirror "$codename")"
  [ -n "$mirror" ] || fail "no Debian mirror for '$codename' in apt's sources (apt-get indextargets)"
  rootfs="$(mktemp -d /var/tmp/sluice-rootfs.XXXXXX)"
  say "  debootstrap $codename ($arch) with $packages"
  timeout 1200 debootstrap --variant=minbase --include="$packages" "$codename" "$rootfs" "$mirror" \
    > "$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; fail "debootstrap failed"; }
  rm -f "$rootfs.log"
  for m in proc sys dev/pts dev; do umount -l "$rootfs/$m" 2>/dev/null || true; done
  [ -x "$rootfs/usr/bin/java" ] || fail "debootstrap installed no /usr/bin/java"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.cache
  # Documentation and translations are of no use in the image; the licences and the directories stay (a later
  # apt-get install, e.g. of the JDK, puts alternatives' links there).
  find "$rootfs/usr/share/man" "$rootfs/usr/share/info" "$rootfs/usr/share/locale" ! -type d -delete
  find "$rootfs/usr/share/doc" ! -type d ! -name copyright -delete
  tar --numeric-owner -C "$rootfs" -c . \
    | "${podman[@]}" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' - "$ref" >/dev/null || fail "podman import failed"
  cleanup_rootfs
  "${podman[@]}" run --rm --network none "${limits[@]}" "$ref" java -version 2>&1 | sed 's/^/  | /' \
    || { "${podman[@]}" rmi -f "$ref" >/dev/null 2>&1; fail "java does not run in $ref"; }
  # Older recipes' images are of no further use: keep the disk bounded.
  "${podman[@]}" images --format '{{.Repository}}:{{.Tag}}' "localhost/$name" | grep -vx "$ref" \
    | xargs -r "${podman[@]}" rmi -f >/dev/null 2>&1 || true
  base_ref="$ref"
}

begin "base images"
runtime_base="${RUNTIME_IMAGE:-}"
if [ -z "$runtime_base" ]; then
  bootstrap_base sluice-base-debian-jre17 ca-certificates,openjdk-17-jre-headless
  runtime_base="$base_ref"
fi
build_base="${BUILD_IMAGE:-}"
if [ "$from_source" = 1 ] && [ -z "$build_base" ]; then
  # The JDK base is the runtime base plus the JDK from the same Debian mirror (cheaper than a second bootstrap).
  build_base="localhost/sluice-base-debian-jdk17:$(printf '%s' "$runtime_base" | sha256sum | cut -c1-12)"
  if "${podman[@]}" image exists "$build_base"; then
    say "  base image $build_base is cached"
  else
    printf 'FROM %s\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless >/dev/null && rm -rf /var/lib/apt/lists/*\n' \
      "$runtime_base" | timeout 900 "${podman[@]}" build --pull=never --network host "${limits[@]}" -t "$build_base" -f - . \
      || fail "building $build_base failed"
  fi
fi
# With a prebuilt jar the build stage is never used; naming the runtime base keeps any builder from pulling.
build_base="${build_base:-$runtime_base}"
say "  runtime base: $runtime_base; build base: $build_base"
done_step
if [ "$base_only" = 1 ]; then
  say "base images ready in $((SECONDS - started)) s"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------------
begin "podman build"
build_args=(--build-arg "RUNTIME_IMAGE=$runtime_base" --build-arg "BUILD_IMAGE=$build_base")
if [ "$from_source" = 1 ]; then
  # buildah 1.28 (Debian 12's podman) does not see that `FROM ${JAR_SOURCE}` names the build stage when it skips
  # unused stages; every stage is used here anyway.
  build_args+=(--skip-unused-stages=false)
  # Outbound TLS here is trusted only with the host's CA bundle (Maven wrapper and Maven download in the build).
  if [ -d /etc/ssl/certs ]; then build_args+=(-v /etc/ssl/certs:/etc/ssl/certs:ro); fi
else
  if [ ! -f target/sluice.jar ]; then
    say "  target/sluice.jar missing: ./mvnw -q -B package -DskipTests"
    ./mvnw -q -B package -DskipTests || fail "the jar did not build"
  fi
  # The host-built jar goes in as an image of its own (JAR_SOURCE); the build stage is then skipped.
  jar_context="$(mktemp -d)"
  cp target/sluice.jar "$jar_context/"
  printf 'FROM scratch\nCOPY sluice.jar /src/target/sluice.jar\n' > "$jar_context/Containerfile"
  "${podman[@]}" build --pull=never -q -t "$jar_image" "$jar_context" >/dev/null || fail "packaging target/sluice.jar failed"
  rm -rf "$jar_context"
  build_args+=(--build-arg "JAR_SOURCE=$jar_image")
fi
# docker format: the OCI format has no HEALTHCHECK and podman would drop it.
timeout 1800 "${podman[@]}" build --pull=never --format docker --network host "${limits[@]}" "${build_args[@]}" \
  -t "$image" -f Dockerfile . || fail "podman build failed"
user="$("${podman[@]}" image inspect -f '{{.Config.User}}' "$image")"
[ "$user" = "10001:10001" ] || fail "image user is '$user' (expected 10001:10001)"
health="$("${podman[@]}" image inspect -f '{{if .HealthCheck}}{{.HealthCheck.Test}}{{end}}' "$image")"
[ -n "$health" ] || fail "image has no HEALTHCHECK"
case "$health" in *java*) fail "the HEALTHCHECK starts a JVM: $health" ;; esac
say "  $image: $("${podman[@]}" image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'), user $user"
done_step

# ---------------------------------------------------------------------------------------------------------------
begin "run read-only as the image's user"
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    if ! ss -Htan | awk '{print $4}' | grep -Eq "[:.]$port\$"; then echo "$port"; return; fi
  done
  fail "no free port found"
}
port="$(free_port)"
demo_key="sk-image-test-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
base="http://127.0.0.1:$port"
# SLUICE_PORT moves the listener (host networking: the container shares the host's ports). The admin listener
# stays off: it starts only with SLUICE_ADMIN_TOKEN.
no_systemd_noise "${podman[@]}" run -d --name "$container" --network host "${limits[@]}" \
  --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,nosuid,nodev,size=64m,mode=1777 \
  --cap-drop ALL --security-opt no-new-privileges \
  -e SLUICE_PORT="$port" -e SLUICE_DEMO_KEY="$demo_key" "$image" >/dev/null || fail "podman run failed"
deadline=$((SECONDS + ready_timeout))
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/health/ready" || true)" = 200 ]; do
  [ "$("${podman[@]}" inspect -f '{{.State.Running}}' "$container")" = true ] || fail "the container exited early"
  [ "$SECONDS" -lt "$deadline" ] || fail "/health/ready not 200 within ${ready_timeout} s"
  sleep 1
done
say "  /health/ready is 200 on 127.0.0.1:$port after $((SECONDS - step_started)) s"
uid="$("${podman[@]}" exec "$container" id -u)"
[ "$uid" = 10001 ] || fail "the process runs as uid $uid (expected 10001)"
pid1_uid="$("${podman[@]}" exec "$container" stat -c %u /proc/1)"
[ "$pid1_uid" = 10001 ] || fail "PID 1 runs as uid $pid1_uid (expected 10001)"
[ "$("${podman[@]}" inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$container")" = true ] || fail "root filesystem is writable"
if "${podman[@]}" exec "$container" sh -c 'echo x > /app/probe' 2>/dev/null; then
  fail "/app is writable (expected a read-only root filesystem)"
fi
say "  uid 10001 (PID 1 too), root filesystem read-only"
done_step

# ---------------------------------------------------------------------------------------------------------------
begin "health check and API"
"${podman[@]}" healthcheck run "$container" >/dev/null || fail "the image's HEALTHCHECK reports unhealthy"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base/v1/chat/completions" \
  -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}')"
[ "$code" = 401 ] || fail "a request without a key got $code (expected 401)"
body="$(curl -sS --max-time 20 "$base/v1/chat/completions" -H "authorization: Bearer $demo_key" \
  -H 'content-type: application/json' \
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello from the image test"}]}' \
  -w '\nstatus=%{http_code}')" || fail "chat completion request failed"
case "$body" in
  *'"object":"chat.completion"'*'Hello from the image test'*'status=200') ;;
  *) fail "unexpected chat completion answer: $body" ;;
esac
say "  HEALTHCHECK healthy; no key → 401; chat completion on the embedded default → 200"
done_step

# ---------------------------------------------------------------------------------------------------------------
begin "SIGTERM drains"
# The mock streams one chunk per word and choice at 200 chunks/s and echoes at most 200 characters: 100 one-letter
# words in 16 choices make ~1600 chunks, several seconds, so SIGTERM arrives while the stream is in flight.
words="$(printf 'a %.0s' $(seq 1 100))"
choices=16
stream_out="$(mktemp)"
curl -sS -N --max-time 90 "$base/v1/chat/completions" -H "authorization: Bearer $demo_key" \
  -H 'content-type: application/json' \
  -d "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"n\":$choices,\"messages\":[{\"role\":\"user\",\"content\":\"$words\"}]}" \
  > "$stream_out" 2>&1 &
stream_pid=$!
deadline=$((SECONDS + 30))
until grep -q '"chat.completion.chunk"' "$stream_out"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the stream did not start: $(head -c 300 "$stream_out")"
  sleep 0.2
done
stop_started=$SECONDS
no_systemd_noise "${podman[@]}" stop -t 60 "$container" >/dev/null || fail "podman stop failed"
stop_seconds=$((SECONDS - stop_started))
wait "$stream_pid" || fail "the in-flight stream failed: $(tail -c 300 "$stream_out")"
tail -n 3 "$stream_out" | grep -q '^data: \[DONE\]' || fail "the in-flight stream did not end with [DONE]: $(tail -c 300 "$stream_out")"
finished="$(grep -c '"finish_reason":"stop"' "$stream_out" || true)"
[ "$finished" = "$choices" ] || fail "the in-flight stream finished $finished of $choices choices"
rm -f "$stream_out"
exit_code="$("${podman[@]}" inspect -f '{{.State.ExitCode}}' "$container")"
case "$exit_code" in
  0|143) ;;
  *) fail "exit code $exit_code after SIGTERM (expected 143 or 0; 137 means it was killed)" ;;
esac
# The drain line comes before the stream's access-log line (written when the stream ends): it was in flight.
log="$("${podman[@]}" logs "$container" 2>&1)"
drain_line="$(grep -n 'draining in-flight requests' <<<"$log" | head -1 | cut -d: -f1)"
stream_line="$(grep -n '"stream":true' <<<"$log" | head -1 | cut -d: -f1)"
[ -n "$drain_line" ] || fail "the log does not show the drain"
[ -n "$stream_line" ] && [ "$stream_line" -gt "$drain_line" ] \
  || fail "the stream was not in flight when SIGTERM arrived (log lines: drain $drain_line, stream ${stream_line:-none})"
say "  SIGTERM during a stream: it finished ($choices choices, [DONE]) after the drain began; exit code $exit_code after ${stop_seconds} s"
done_step

say "PASSED in $((SECONDS - started)) s"
