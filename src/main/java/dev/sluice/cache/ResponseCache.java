package dev.sluice.cache;

import io.vertx.core.Future;
import java.time.Duration;

/**
 * Stores complete successes by {@link CacheKey}. Never fails: backend errors and timeouts read as misses and
 * writes are dropped (the request goes on to the provider); corrupt or foreign entries read as misses and are
 * deleted.
 */
public interface ResponseCache {
  /** Completes with the entry, or {@code null}. */
  Future<CachedResponse> get(String tenant, String key, String endpoint, String alias);

  Future<Void> put(String key, CachedResponse response, Duration ttl);

}
