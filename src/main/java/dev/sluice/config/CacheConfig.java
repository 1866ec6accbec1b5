package dev.sluice.config;

import java.time.Duration;

/**
 * Process-wide response cache settings; tenants opt in separately.
 *
 * @param flightLockTtl with Redis: how long one replica may lead an identical miss for the whole fleet (the others
 *     wait for its stored answer at most this long)
 */
public record CacheConfig(Integer maxEntries, Duration defaultTtl, Duration flightLockTtl) {
  public static final CacheConfig DEFAULTS = new CacheConfig(null, null, null);

  public CacheConfig {
    maxEntries = Checks.positive("max-entries", maxEntries, 10_000);
    defaultTtl = Checks.positive("default-ttl", defaultTtl, Duration.ofHours(1));
    flightLockTtl = Checks.positive("flight-lock-ttl", flightLockTtl, Duration.ofSeconds(60));
  }
}
