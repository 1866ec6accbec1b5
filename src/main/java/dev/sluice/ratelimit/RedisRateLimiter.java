package dev.sluice.ratelimit;

import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.redis.LuaScript;
import dev.sluice.redis.RedisBreaker;
import dev.sluice.usage.CostCalculator;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Limits shared by every replica: one atomic Lua script per decision ({@code admit.lua}) and per settlement
 * ({@code settle.lua}), Redis {@code TIME} inside the script (no clock skew between pods), keys hash-tagged per
 * tenant ({@code sluice:rl:{t:<id>}:…}) so Redis Cluster works, a TTL on every key, {@code EVALSHA} with a
 * {@code NOSCRIPT} reload.
 *
 * <p>Failure policy (explicit): each command has a short timeout, a {@link RedisBreaker} skips Redis
 * during an outage, and then a tenant is either served by a local bucket holding {@code limit ÷ expected replicas}
 * (fail-open, the default; counted) or refused with {@code LIMITER_UNAVAILABLE} (fail-closed). A corrupt bucket
 * (wrong type, non-numeric fields) is a limiter error for that request, repaired by deleting its keys, and counted.
 */
public final class RedisRateLimiter implements RateLimiter {
  private static final Logger LOG = LoggerFactory.getLogger(RedisRateLimiter.class);
  static final long LEASE_MILLIS = 15 * 60_000;
  static final long BUCKET_TTL_MILLIS = 2 * 60_000;

  private static final LuaScript ADMIT = LuaScript.load(RedisRateLimiter.class, "admit.lua");
  private static final LuaScript SETTLE = LuaScript.load(RedisRateLimiter.class, "settle.lua");

  private final Redis redis;
  private final long timeoutMillis;
  private final RedisBreaker breaker;
  private final LocalRateLimiter fallback;
  private final LongAdder redisErrors = new LongAdder();
  private final LongAdder degradedDecisions = new LongAdder();
  private final LongAdder corruptKeys = new LongAdder();

  public RedisRateLimiter(Redis redis, long timeoutMillis, RedisBreaker breaker, LocalRateLimiter fallback) {
    this.redis = redis;
    this.timeoutMillis = timeoutMillis;
    this.breaker = breaker;
    this.fallback = fallback;
  }

  /** All keys of one tenant share the {@code {t:<id>}} hash tag, so one script's keys live in one Cluster slot. */
  static String keyPrefix(LimitRequest request) {
    return "sluice:rl:{t:" + request.tenantId() + "}:" + (request.scope().isEmpty() ? "" : "m:" + request.scope() + ":");
  }

  @Override
  public Future<RateLimitDecision> admit(LimitRequest request) {
    if (request.unlimited()) return Future.succeededFuture(RateLimitDecision.UNLIMITED);
    if (!breaker.allowRequest()) return Future.succeededFuture(degrade(request));
    String prefix = keyPrefix(request);
    List<String> keys = List.of(prefix + "req", prefix + "tok", prefix + "inflight");
    List<String> args = List.of(
        Long.toString(LimitRequest.orZero(request.limits().requestsPerMinute())),
        Long.toString(LimitRequest.orZero(request.limits().tokensPerMinute())),
        Long.toString(request.tokenCost()),
        Long.toString(LimitRequest.orZero(request.limits().maxInFlight())),
        request.requestId(),
        Long.toString(LEASE_MILLIS),
        Long.toString(BUCKET_TTL_MILLIS),
        Long.toString(request.limits().requestCapacity()),
        Long.toString(request.limits().tokenCapacity()));
    return eval(ADMIT, keys, args).transform(ar -> {
      if (ar.succeeded()) {
        breaker.onSuccess();
        return Future.succeededFuture(toDecision(ar.result(), request));
      }
      return onError("admit", ar.cause(), keys).map(v -> degrade(request));
    });
  }

  private RateLimitDecision toDecision(Response r, LimitRequest request) {
    RateLimitDecision.Denial denial = switch (r.get(1).toInteger()) {
      case 0 -> RateLimitDecision.Denial.NONE;
      case 1 -> RateLimitDecision.Denial.REQUESTS;
      case 2 -> RateLimitDecision.Denial.TOKENS;
      case 3 -> RateLimitDecision.Denial.CONCURRENCY;
      default -> RateLimitDecision.Denial.LARGER_THAN_BUCKET;
    };
    return new RateLimitDecision(denial, request.limits().requestCapacity(), r.get(2).toLong(), r.get(3).toLong(),
        request.limits().tokenCapacity(), r.get(4).toLong(), r.get(5).toLong(), r.get(6).toLong(), false);
  }

  private RateLimitDecision degrade(LimitRequest request) {
    degradedDecisions.increment();
    if (request.onRedisFailure() == RedisFailurePolicy.FAIL_CLOSED) {
      return new RateLimitDecision(RateLimitDecision.Denial.LIMITER_UNAVAILABLE, 0, 0, 0, 0, 0, 0, 1000, true);
    }
    return fallback.decide(request).asDegraded();
  }

  @Override
  public Future<Void> settle(LimitRequest admitted, RateLimitDecision admission, long actualTokens) {
    if (admitted.unlimited()) return Future.succeededFuture();
    if (admission.degraded()) return fallback.settle(admitted, admission, actualTokens);
    String prefix = keyPrefix(admitted);
    List<String> keys = List.of(prefix + "tok", prefix + "inflight");
    List<String> args = List.of(Long.toString(LimitRequest.orZero(admitted.limits().tokensPerMinute())),
        Long.toString(admitted.tokenCost() - CostCalculator.tokens(actualTokens)), admitted.requestId(), Long.toString(BUCKET_TTL_MILLIS),
        Long.toString(admitted.limits().tokenCapacity()));
    // A lost settlement only delays capacity: the lease expires and the bucket refills. It is counted, never retried
    // in a loop that could pile up on a failing Redis.
    return eval(SETTLE, keys, args).transform(ar -> {
      if (ar.succeeded()) {
        breaker.onSuccess();
        return Future.succeededFuture();
      }
      return onError("settle", ar.cause(), keys);
    });
  }

  /** Counts the error; for corrupt keys, completes once they are deleted (bounded by the command timeout). */
  private Future<Void> onError(String op, Throwable cause, List<String> keys) {
    redisErrors.increment();
    if (breaker.onFailure()) {
      LOG.warn("Redis unavailable ({}): rate limits use the local fallback or fail closed per tenant until it recovers",
          cause.getClass().getSimpleName());
    }
    if (LuaScript.isCorruption(cause)) {
      corruptKeys.increment();
      LOG.warn("rate-limit keys were corrupt and are reset (op={})", op);
      Request del = Request.cmd(Command.DEL);
      keys.forEach(del::arg);
      return redis.send(del).timeout(timeoutMillis, TimeUnit.MILLISECONDS).<Void>mapEmpty().otherwiseEmpty();
    }
    LOG.debug("redis {} failed: {}", op, cause.toString());
    return Future.succeededFuture();
  }

  private Future<Response> eval(LuaScript script, List<String> keys, List<String> args) {
    return script.run(redis, keys, args, timeoutMillis);
  }

  public long redisErrors() {
    return redisErrors.sum();
  }

  public long degradedDecisions() {
    return degradedDecisions.sum();
  }

  public long corruptKeys() {
    return corruptKeys.sum();
  }

}
