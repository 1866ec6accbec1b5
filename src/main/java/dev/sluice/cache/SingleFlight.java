package dev.sluice.cache;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Coalesces concurrent identical cache misses in this process: the first caller for a key becomes the leader and
 * goes upstream; the others wait for the leader's answer. The leader must call {@link Lead#complete} or
 * {@link Lead#fail} exactly once (a cancelled leader fails, so followers are never left waiting). Followers'
 * callbacks run on the leader's thread: they must hop back to their own context before touching their request.
 */
public final class SingleFlight {
  private final ConcurrentHashMap<String, Promise<CachedResponse>> inFlight = new ConcurrentHashMap<>();

  /** The leader's handle. */
  public final class Lead {
    private final String key;
    private final Promise<CachedResponse> promise;

    private Lead(String key, Promise<CachedResponse> promise) {
      this.key = key;
      this.promise = promise;
    }

    public void complete(CachedResponse response) {
      inFlight.remove(key, promise);
      promise.tryComplete(response);
    }

    public void fail(Throwable failure) {
      inFlight.remove(key, promise);
      promise.tryFail(failure);
    }
  }

  /** Either a {@link Lead} (go upstream) or a future of the leader's answer. */
  public record Join(Lead lead, Future<CachedResponse> follower) {
    public boolean isLeader() {
      return lead != null;
    }
  }

  public Join join(String key) {
    Promise<CachedResponse> mine = Promise.promise();
    Promise<CachedResponse> existing = inFlight.putIfAbsent(key, mine);
    if (existing == null) return new Join(new Lead(key, mine), null);
    return new Join(null, existing.future());
  }

  public int size() {
    return inFlight.size();
  }
}
