package dev.sluice.cache;

import dev.sluice.json.JsonProblem;
import dev.sluice.json.StrictJson;
import dev.sluice.redis.RedisBreaker;
import dev.sluice.redis.RedisDeadline;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * Entries in Redis at {@code sluice:cache:v1:{t:<tenant>}:<sha256>} with a TTL. Every command has the Redis command
 * timeout (judged by {@link RedisDeadline}: a stall of our own is not Redis's timeout) and a breaker that only
 * Redis's failures move; any error is a bypass (a miss that also skips the write), never a failed request.
 */
public final class RedisResponseCache implements ResponseCache {
  private final Redis redis;
  private final long timeoutMillis;
  private final RedisBreaker breaker;
  private final LongAdder errors = new LongAdder();
  private final LongAdder corrupt = new LongAdder();

  public RedisResponseCache(Redis redis, long timeoutMillis, RedisBreaker breaker) {
    this.redis = redis;
    this.timeoutMillis = timeoutMillis;
    this.breaker = breaker;
  }

  static String redisKey(String tenant, String key) {
    return "sluice:cache:v" + CacheKey.VERSION + ":{t:" + tenant + "}:" + key;
  }

  @Override
  public Future<CachedResponse> get(String tenant, String key, String endpoint, String alias) {
    String redisKey = redisKey(tenant, key);
    return read(redisKey, true).compose(value -> {
      if (value == null) return Future.succeededFuture();
      CachedResponse response;
      try {
        response = CachedResponse.fromEnvelope(StrictJson.parseObject(value.toBuffer()), tenant, endpoint, alias);
      } catch (JsonProblem | IllegalStateException e) {
        response = null;
      }
      if (response == null) {
        corrupt.increment();
        // delete before answering, so this request's own fresh write cannot be overtaken by the delete
        return RedisDeadline.within(redis.send(Request.cmd(Command.DEL).arg(redisKey)), timeoutMillis)
            .<CachedResponse>map(v -> null).otherwiseEmpty();
      }
      return Future.succeededFuture(response);
    });
  }

  /**
   * One {@code GET}, retried once when Redis (not our own stall) failed it and the breaker still lets calls through:
   * a lost lookup costs an upstream call (and, across the fleet, a duplicate one), far more than a second try.
   */
  private Future<Response> read(String redisKey, boolean mayRetry) {
    if (!breaker.allowRequest()) return Future.failedFuture(new CacheUnavailable());
    return RedisDeadline.within(redis.send(Request.cmd(Command.GET).arg(redisKey)), timeoutMillis).transform(ar -> {
      if (ar.succeeded()) {
        breaker.onSuccess();
        return Future.succeededFuture(ar.result());
      }
      failed(ar.cause());
      if (mayRetry && RedisDeadline.isRedisFailure(ar.cause())) return read(redisKey, false);
      return Future.failedFuture(new CacheUnavailable());
    });
  }

  @Override
  public Future<Void> put(String key, CachedResponse response, Duration ttl) {
    if (!breaker.allowRequest()) return Future.succeededFuture();
    Request set = Request.cmd(Command.SET).arg(redisKey(response.tenant(), key)).arg(response.toEnvelope().encode())
        .arg("PX").arg(Math.max(1, ttl.toMillis()));
    return RedisDeadline.within(redis.send(set), timeoutMillis).transform(ar -> {
      if (ar.failed()) {
        failed(ar.cause());
      } else {
        breaker.onSuccess();
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Judges a failed command: only Redis's failures (not a stall of our own) are counted and move the breaker; ours
   * give back the breaker's permission, so a half-open breaker is not starved of probes.
   */
  private void failed(Throwable cause) {
    if (breaker.judge(RedisDeadline.isRedisFailure(cause))) errors.increment();
  }

  public long errors() {
    return errors.sum();
  }

  public long corruptEntries() {
    return corrupt.sum();
  }

  /** The cache could not be asked: the request bypasses it. */
  public static final class CacheUnavailable extends RuntimeException {
    CacheUnavailable() {
      super("cache unavailable", null, false, false);
    }
  }
}
