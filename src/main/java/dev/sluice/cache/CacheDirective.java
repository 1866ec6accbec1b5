package dev.sluice.cache;

import java.time.Duration;

/**
 * What the cache may do for one request. {@code status} is the {@code x-sluice-cache} value it starts with:
 * {@code DISABLED} (tenant not opted in), {@code BYPASS} (request not deterministic), {@code REFRESH} (skip the read,
 * write the answer), or {@code MISS} (read, then write on a miss) — a read that finds an entry turns it into HIT.
 */
public record CacheDirective(String status, boolean read, boolean write, Duration ttl, long maxAgeSeconds, String namespace) {
  public static final CacheDirective DISABLED = new CacheDirective("DISABLED", false, false, Duration.ZERO, -1, "");
  public static final CacheDirective NOT_CACHEABLE = new CacheDirective("BYPASS", false, false, Duration.ZERO, -1, "");

  public boolean cacheable() {
    return read || write;
  }
}
