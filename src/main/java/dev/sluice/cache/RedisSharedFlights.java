package dev.sluice.cache;

import dev.sluice.redis.RedisBreaker;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The fleet lock is {@code sluice:flight:v1:{t:<tenant>}:<key>} ({@code SET NX PX}, same hash tag as the cache entry,
 * so one Cluster slot), held by the leading replica until its answer is stored or given up, and never longer than
 * {@code cache.flight-lock-ttl} (a replica that dies mid-flight only delays the others until then). Followers poll
 * for the lock to disappear, 25 ms at first and backing off to 250 ms: at most a quarter of a second after the
 * leader, for an answer that took the provider seconds, and no subscriber connection to keep alive.
 */
public final class RedisSharedFlights implements SharedFlights {
  private static final long FIRST_POLL_MILLIS = 25;
  private static final long MAX_POLL_MILLIS = 250;

  private final Vertx vertx;
  private final Redis redis;
  private final long timeoutMillis;
  private final long lockMillis;
  private final RedisBreaker breaker;
  private final String replica = UUID.randomUUID().toString();
  private final LongAdder errors = new LongAdder();
  private final LongAdder waits = new LongAdder();

  public RedisSharedFlights(Vertx vertx, Redis redis, long timeoutMillis, Duration lockTtl, RedisBreaker breaker) {
    this.vertx = vertx;
    this.redis = redis;
    this.timeoutMillis = timeoutMillis;
    this.lockMillis = Math.max(1, lockTtl.toMillis());
    this.breaker = breaker;
  }

  static String lockKey(String tenant, String key) {
    return "sluice:flight:v" + CacheKey.VERSION + ":{t:" + tenant + "}:" + key;
  }

  /** Redis errors (each one means this replica led on its own). */
  public long errors() {
    return errors.sum();
  }

  /** Misses that waited for another replica's leader instead of calling the provider themselves. */
  public long waits() {
    return waits.sum();
  }

  @Override
  public Future<Boolean> tryLead(String tenant, String key) {
    if (!breaker.allowRequest()) return Future.succeededFuture(true);
    Request set = Request.cmd(Command.SET).arg(lockKey(tenant, key)).arg(replica).arg("NX").arg("PX").arg(lockMillis);
    return redis.send(set).timeout(timeoutMillis, TimeUnit.MILLISECONDS).transform(ar -> {
      if (ar.failed()) {
        failed();
        return Future.succeededFuture(true);
      }
      breaker.onSuccess();
      boolean lead = ar.result() != null; // "OK", or nil when another replica holds the lock
      if (!lead) waits.increment();
      return Future.succeededFuture(lead);
    });
  }

  @Override
  public Future<Void> awaitLeader(String tenant, String key) {
    Promise<Void> done = Promise.promise();
    poll(lockKey(tenant, key), System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(lockMillis), FIRST_POLL_MILLIS, done);
    return done.future();
  }

  private void poll(String lockKey, long deadlineNanos, long delay, Promise<Void> done) {
    vertx.setTimer(delay, id -> {
      if (System.nanoTime() >= deadlineNanos || !breaker.allowRequest()) {
        done.tryComplete();
        return;
      }
      redis.send(Request.cmd(Command.EXISTS).arg(lockKey)).timeout(timeoutMillis, TimeUnit.MILLISECONDS).onComplete(ar -> {
        if (ar.failed()) {
          failed();
          done.tryComplete();
        } else if (ar.result() == null || ar.result().toLong() == 0) {
          breaker.onSuccess();
          done.tryComplete();
        } else {
          poll(lockKey, deadlineNanos, Math.min(MAX_POLL_MILLIS, delay * 3 / 2), done);
        }
      });
    });
  }

  @Override
  public void release(String tenant, String key) {
    if (breaker.isOpen()) return; // Redis is out: we led without a lock (or it expires on its own)
    // only our own lock: compare and delete in one step
    Request del = Request.cmd(Command.EVAL).arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
        .arg(1).arg(lockKey(tenant, key)).arg(replica);
    redis.send(del).timeout(timeoutMillis, TimeUnit.MILLISECONDS).onFailure(e -> failed());
  }

  private void failed() {
    errors.increment();
    breaker.onFailure();
  }
}
