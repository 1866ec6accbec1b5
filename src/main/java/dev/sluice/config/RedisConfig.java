package dev.sluice.config;

import java.time.Duration;

/**
 * Where shared state lives; an empty {@code url} keeps limiter, cache and ledger in memory. {@code expectedReplicas}
 * is the fail-open divisor until the first replica heartbeat is read from Redis (then the live count is used).
 */
public record RedisConfig(String url, Duration commandTimeout, Integer expectedReplicas) {
  /**
   * Far above a healthy Redis's reply time (well under 1 ms on a LAN, a few ms at p99.9 under load) and above the
   * stalls of a busy machine (GC pauses, a cold JIT, a starved CPU: measured up to several hundred ms on a loaded
   * 2-core box at start), so only a Redis that is really away times out. The price is paid only at the start of a
   * real outage: the breaker then skips Redis after ≥ 10 calls, half of them failed. A late timer of our own is not
   * counted either (see {@code RedisFailure.within}).
   */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMillis(1000);
  public static final RedisConfig DEFAULTS = new RedisConfig(null, null, null);

  public RedisConfig {
    url = url == null ? "" : url.trim();
    if (!url.isEmpty() && !url.matches("^(redis|rediss|redis-sentinel|redis-cluster)://.+")) {
      throw new IllegalArgumentException("url: <redacted> (expected: redis://, rediss://, redis-sentinel:// or redis-cluster:// URL, or empty)");
    }
    commandTimeout = Checks.positive("command-timeout", commandTimeout, DEFAULT_COMMAND_TIMEOUT);
    expectedReplicas = Checks.positive("expected-replicas", expectedReplicas, 1);
  }

  public boolean enabled() {
    return !url.isEmpty();
  }

  @Override
  public String toString() {
    return "RedisConfig[enabled=" + enabled() + "]";
  }
}
