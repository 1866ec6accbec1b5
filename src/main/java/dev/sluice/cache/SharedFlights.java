package dev.sluice.cache;

import io.vertx.core.Future;

/**
 * Single-flight across replicas: before a replica's local leader goes upstream for a cacheable miss, it asks the fleet
 * whether another replica is already fetching the same key; if so it waits for that one to finish and reads the
 * stored answer instead. Never fails and never blocks a request for good: when the fleet cannot be asked (no Redis,
 * Redis down) every replica leads for itself, as with {@link #LOCAL}.
 */
public interface SharedFlights {
  /** Completes with true when this replica should go upstream for {@code key} (it holds the fleet lock, or none). */
  Future<Boolean> tryLead(String tenant, String key);

  /** Completes when the replica leading {@code key} has finished (or its lock expired, or Redis failed). */
  Future<Void> awaitLeader(String tenant, String key);

  /** This replica's lead on {@code key} ended (stored, failed or abandoned): let the fleet's followers go on. */
  void release(String tenant, String key);

  /** One process: the local {@link SingleFlight} is all there is. */
  SharedFlights LOCAL = new SharedFlights() {
    @Override
    public Future<Boolean> tryLead(String tenant, String key) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Void> awaitLeader(String tenant, String key) {
      return Future.succeededFuture();
    }

    @Override
    public void release(String tenant, String key) {
    }
  };
}
