package dev.sluice.cache;

import dev.sluice.redis.LuaScript;
import dev.sluice.redis.RedisBreaker;
import dev.sluice.redis.RedisDeadline;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The fleet lock is {@code sluice:flight:v1:{t:<tenant>}:<key>} ({@code SET NX PX}, same hash tag as the cache entry,
 * so one Cluster slot), held by the leading replica until its answer is stored or given up, and never longer than
 * {@code cache.flight-lock-ttl} (a replica that dies mid-flight only delays the others until then). Followers poll
 * for the lock to disappear, 25 ms at first and backing off to 250 ms: at most a quarter of a second after the
 * leader, for an answer that took the provider seconds, and no subscriber connection to keep alive. Commands are
 * judged by {@link RedisDeadline} (our own stall is not Redis's timeout); a failed poll is polled again rather than
 * sending the follower upstream.
 */
public final class RedisSharedFlights implements SharedFlights {
  /** Compare-and-delete of the fleet lock: only the replica that holds it may release it. */
  public static final LuaScript RELEASE = LuaScript.load(RedisSharedFlights.class, "release_flight.lua");
  /** Idempotent take of the fleet lock, for the retry after a lost {@code SET NX} reply. */
  public static final LuaScript ACQUIRE = LuaScript.load(RedisSharedFlights.class, "acquire_flight.lua");
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
    String lockKey = lockKey(tenant, key);
    Request set = Request.cmd(Command.SET).arg(lockKey).arg(replica).arg("NX").arg("PX").arg(lockMillis);
    return RedisDeadline.within(redis.send(set), timeoutMillis)
        .map(reply -> reply != null) // "OK", or nil when another replica holds the lock
        .recover(failure -> {
          failed(failure);
          // Leading without the lock would make this a second upstream call for the fleet whenever another replica
          // leads too. Retry once while Redis is judged up (not after a stall of ours, which was waited out already),
          // idempotently: the first SET may have been applied and only its reply lost.
          if (!RedisDeadline.isRedisFailure(failure) || !breaker.allowRequest()) return Future.failedFuture(failure);
          return ACQUIRE.run(redis, List.of(lockKey), List.of(replica, Long.toString(lockMillis)), timeoutMillis)
              .map(reply -> reply.toLong() == 1)
              .onFailure(this::failed);
        })
        .transform(ar -> {
          if (ar.failed()) return Future.succeededFuture(true); // the fleet cannot be asked: lead for ourselves
          breaker.onSuccess();
          if (!ar.result()) waits.increment();
          return Future.succeededFuture(ar.result());
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
      long next = Math.min(MAX_POLL_MILLIS, delay * 3 / 2);
      RedisDeadline.within(redis.send(Request.cmd(Command.EXISTS).arg(lockKey)), timeoutMillis).onComplete(ar -> {
        if (ar.failed()) {
          // one lost poll is no reason to stop waiting (going upstream now would be a second call for the fleet):
          // poll again; the breaker (Redis really away) or the lock's TTL ends the wait
          failed(ar.cause());
          poll(lockKey, deadlineNanos, next, done);
        } else if (ar.result() == null || ar.result().toLong() == 0) {
          breaker.onSuccess();
          done.tryComplete();
        } else {
          breaker.onSuccess();
          poll(lockKey, deadlineNanos, next, done);
        }
      });
    });
  }

  @Override
  public void release(String tenant, String key) {
    if (breaker.isOpen()) return; // Redis is out: we led without a lock (or it expires on its own)
    // only our own lock: compare and delete in one step
    RELEASE.run(redis, List.of(lockKey(tenant, key)), List.of(replica), timeoutMillis).onFailure(this::failed);
  }

  /**
   * Judges a failed command: only Redis's failures (not a stall of our own) are counted and move the breaker; ours
   * give back the breaker's permission, so a half-open breaker is not starved of probes.
   */
  private void failed(Throwable cause) {
    if (breaker.judge(RedisDeadline.isRedisFailure(cause))) errors.increment();
  }
}
