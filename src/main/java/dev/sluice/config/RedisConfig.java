package dev.sluice.config;

import java.time.Duration;

/** Where shared state lives; an empty {@code url} keeps limiter, cache and ledger in memory. */
public record RedisConfig(String url, Duration commandTimeout, Integer expectedReplicas) {
  public static final RedisConfig DEFAULTS = new RedisConfig(null, null, null);

  public RedisConfig {
    url = url == null ? "" : url.trim();
    if (!url.isEmpty() && !url.matches("^(redis|rediss|redis-sentinel|redis-cluster)://.+")) {
      throw new IllegalArgumentException("url: <redacted> (expected: redis://, rediss://, redis-sentinel:// or redis-cluster:// URL, or empty)");
    }
    commandTimeout = Checks.positive("command-timeout", commandTimeout, Duration.ofMillis(50));
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
