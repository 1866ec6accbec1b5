package dev.sluice.cache;

import dev.sluice.json.JsonProblem;
import dev.sluice.json.StrictJson;
import dev.sluice.redis.RedisBreaker;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Entries in Redis at {@code sluice:cache:v1:{t:<tenant>}:<sha256>} with a TTL. Every command has the short Redis
 * timeout and a breaker; any error is a bypass (a miss that also skips the write), never a failed request.
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
    if (!breaker.allowRequest()) return Future.failedFuture(new CacheUnavailable());
    String redisKey = redisKey(tenant, key);
    return redis.send(Request.cmd(Command.GET).arg(redisKey)).timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .transform(ar -> {
          if (ar.failed()) {
            errors.increment();
            breaker.onFailure();
            return Future.failedFuture(new CacheUnavailable());
          }
          breaker.onSuccess();
          Response value = ar.result();
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
            return redis.send(Request.cmd(Command.DEL).arg(redisKey)).timeout(timeoutMillis, TimeUnit.MILLISECONDS)
                .<CachedResponse>map(v -> null).otherwiseEmpty();
          }
          return Future.succeededFuture(response);
        });
  }

  @Override
  public Future<Void> put(String key, CachedResponse response, Duration ttl) {
    if (!breaker.allowRequest()) return Future.succeededFuture();
    Request set = Request.cmd(Command.SET).arg(redisKey(response.tenant(), key)).arg(response.toEnvelope().encode())
        .arg("PX").arg(Math.max(1, ttl.toMillis()));
    return redis.send(set).timeout(timeoutMillis, TimeUnit.MILLISECONDS).transform(ar -> {
      if (ar.failed()) {
        errors.increment();
        breaker.onFailure();
      } else {
        breaker.onSuccess();
      }
      return Future.succeededFuture();
    });
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
