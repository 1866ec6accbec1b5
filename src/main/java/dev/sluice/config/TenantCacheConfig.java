package dev.sluice.config;

import java.time.Duration;

/** Response-cache opt-in for one tenant. */
public record TenantCacheConfig(Boolean enabled, Duration ttl) {
  public static final TenantCacheConfig OFF = new TenantCacheConfig(false, null);

  public TenantCacheConfig {
    enabled = enabled != null && enabled;
    ttl = Checks.positive("ttl", ttl, Duration.ofHours(1));
  }
}
