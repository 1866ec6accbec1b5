package dev.sluice.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.function.LongSupplier;

/** In-memory cache for a single node (Caffeine, size-bounded, per-entry TTL). Shared by every event loop. */
public final class LocalResponseCache implements ResponseCache {
  private record Entry(CachedResponse response, long ttlNanos) {}

  private final Cache<String, Entry> entries;

  public LocalResponseCache(long maxEntries, LongSupplier nanoTicker) {
    this.entries = Caffeine.newBuilder()
        .maximumSize(maxEntries)
        .ticker(nanoTicker::getAsLong)
        .expireAfter(new Expiry<String, Entry>() {
          @Override
          public long expireAfterCreate(String key, Entry value, long currentTime) {
            return value.ttlNanos();
          }

          @Override
          public long expireAfterUpdate(String key, Entry value, long currentTime, long currentDuration) {
            return value.ttlNanos();
          }

          @Override
          public long expireAfterRead(String key, Entry value, long currentTime, long currentDuration) {
            return currentDuration;
          }
        })
        .build();
  }

  @Override
  public Future<CachedResponse> get(String tenant, String key, String endpoint, String alias) {
    Entry entry = entries.getIfPresent(storageKey(tenant, key));
    if (entry == null) return Future.succeededFuture();
    CachedResponse r = entry.response();
    // the tenant is already in the key; the envelope check is defence in depth against a key collision
    if (!r.tenant().equals(tenant) || !r.endpoint().equals(endpoint) || !r.alias().equals(alias)) {
      entries.invalidate(storageKey(tenant, key));
      return Future.succeededFuture();
    }
    return Future.succeededFuture(r);
  }

  @Override
  public Future<Void> put(String key, CachedResponse response, Duration ttl) {
    entries.put(storageKey(response.tenant(), key), new Entry(response, ttl.toNanos()));
    return Future.succeededFuture();
  }

  private static String storageKey(String tenant, String key) {
    return tenant + ":" + key;
  }
}
