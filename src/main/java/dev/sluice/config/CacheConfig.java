package dev.sluice.config;

import java.time.Duration;

/** Process-wide response cache settings; tenants opt in separately. */
public record CacheConfig(Integer maxEntries, Duration defaultTtl) {
  public static final CacheConfig DEFAULTS = new CacheConfig(null, null);

  public CacheConfig {
    maxEntries = Checks.positive("max-entries", maxEntries, 10_000);
    defaultTtl = Checks.positive("default-ttl", defaultTtl, Duration.ofHours(1));
  }
}
