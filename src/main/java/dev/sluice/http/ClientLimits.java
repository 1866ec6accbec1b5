package dev.sluice.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Process-wide counts that bound what one client can hold: open connections per client address and requests per
 * tenant whose body is still arriving. Shared by every event loop (one instance per gateway); each acquire that
 * succeeds must be released exactly once.
 */
public final class ClientLimits {
  private final ConcurrentHashMap<String, AtomicInteger> connections = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicInteger> uploads = new ConcurrentHashMap<>();

  /** Counts a connection from {@code address}; false (and nothing counted) when it would exceed {@code max} (0 = no cap). */
  public boolean openConnection(String address, int max) {
    return acquire(connections, address, max);
  }

  public void closeConnection(String address) {
    release(connections, address);
  }

  /** Counts an upload of {@code tenant}; false (and nothing counted) when it would exceed {@code max}. */
  public boolean startUpload(String tenant, int max) {
    return acquire(uploads, tenant, max);
  }

  public void endUpload(String tenant) {
    release(uploads, tenant);
  }

  /** Requests of {@code tenant} whose body is still arriving. */
  public int uploading(String tenant) {
    AtomicInteger n = uploads.get(tenant);
    return n == null ? 0 : n.get();
  }

  /** Requests of every tenant whose body is still arriving. */
  public int uploading() {
    return uploads.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  private static boolean acquire(ConcurrentHashMap<String, AtomicInteger> counts, String key, int max) {
    boolean[] admitted = {false};
    counts.compute(key, (k, n) -> {
      AtomicInteger count = n == null ? new AtomicInteger() : n;
      if (max <= 0 || count.get() < max) {
        count.incrementAndGet();
        admitted[0] = true;
      }
      return count.get() == 0 ? null : count;
    });
    return admitted[0];
  }

  private static void release(ConcurrentHashMap<String, AtomicInteger> counts, String key) {
    // Entries at zero are removed so the maps hold only addresses and tenants with something open.
    counts.computeIfPresent(key, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
  }
}
