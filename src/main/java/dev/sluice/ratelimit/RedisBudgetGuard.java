package dev.sluice.ratelimit;

import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.redis.LuaScript;
import dev.sluice.redis.RedisBreaker;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Budgets shared by every replica: nano-USD counters per tenant and UTC day/month in Redis
 * ({@code sluice:budget:{t:<id>}:d:<yyyy-mm-dd>}, {@code …:m:<yyyy-mm>}), checked and reserved by one Lua script so
 * concurrent requests cannot overspend. Redis failures follow the tenant's policy like the rate limiter: a local
 * share of the caps (fail-open) or refusal (fail-closed).
 */
public final class RedisBudgetGuard implements BudgetGuard {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RedisBudgetGuard.class);
  private static final LuaScript RESERVE = LuaScript.load(RedisBudgetGuard.class, "budget.lua");
  private static final long DAY_TTL_SECONDS = 2 * 86_400;
  private static final long MONTH_TTL_SECONDS = 32 * 86_400;

  private final Redis redis;
  private final long timeoutMillis;
  private final RedisBreaker breaker;
  private final LocalBudgetGuard fallback;
  private final LongAdder redisErrors = new LongAdder();

  public RedisBudgetGuard(Redis redis, long timeoutMillis, RedisBreaker breaker, LocalBudgetGuard fallback) {
    this.redis = redis;
    this.timeoutMillis = timeoutMillis;
    this.breaker = breaker;
    this.fallback = fallback;
  }

  static List<String> keys(BudgetRequest r) {
    String prefix = "sluice:budget:{t:" + r.tenantId() + "}:";
    return List.of(prefix + "d:" + r.day(), prefix + "m:" + r.day().toString().substring(0, 7));
  }

  @Override
  public Future<BudgetDecision> reserve(BudgetRequest request) {
    if (request.uncapped()) return Future.succeededFuture(BudgetDecision.UNCAPPED);
    if (!breaker.allowRequest()) return Future.succeededFuture(degrade(request));
    long dayCap = BudgetRequest.cap(request.budget().dailyUsd());
    long monthCap = BudgetRequest.cap(request.budget().monthlyUsd());
    List<String> keys = keys(request);
    List<String> args = List.of(Long.toString(dayCap), Long.toString(monthCap),
        Long.toString(BudgetRequest.nanos(request.estimatedUsd())), Long.toString(DAY_TTL_SECONDS),
        Long.toString(MONTH_TTL_SECONDS));
    return RESERVE.run(redis, keys, args, timeoutMillis).transform(ar -> {
      if (ar.succeeded()) {
        breaker.onSuccess();
        boolean allowed = ar.result().get(0).toInteger() == 1;
        double remaining = LocalBudgetGuard.remaining(dayCap, ar.result().get(1).toLong(), monthCap, ar.result().get(2).toLong());
        return Future.succeededFuture(new BudgetDecision(allowed, allowed ? remaining : 0, false, false));
      }
      return onError(ar.cause(), keys).map(v -> degrade(request));
    });
  }

  private BudgetDecision degrade(BudgetRequest request) {
    if (request.onRedisFailure() == RedisFailurePolicy.FAIL_CLOSED) return new BudgetDecision(false, 0, true, true);
    BudgetDecision local = fallback.decide(request);
    return new BudgetDecision(local.allowed(), local.remainingUsd(), true, false);
  }

  @Override
  public Future<Void> settle(BudgetRequest request, BudgetDecision admission, double actualUsd) {
    if (request.uncapped() || !admission.allowed()) return Future.succeededFuture();
    if (admission.degraded()) return fallback.settle(request, admission, actualUsd);
    long delta = BudgetRequest.nanos(actualUsd) - BudgetRequest.nanos(request.estimatedUsd());
    if (delta == 0) return Future.succeededFuture();
    List<String> keys = keys(request);
    Future<?> day = redis.send(Request.cmd(Command.INCRBY).arg(keys.get(0)).arg(delta));
    Future<?> month = redis.send(Request.cmd(Command.INCRBY).arg(keys.get(1)).arg(delta));
    return Future.all(day, month).timeout(timeoutMillis, TimeUnit.MILLISECONDS).transform(ar -> {
      if (ar.succeeded()) return Future.succeededFuture();
      return onError(ar.cause(), keys);
    });
  }

  private Future<Void> onError(Throwable cause, List<String> keys) {
    redisErrors.increment();
    if (breaker.onFailure()) {
      LOG.warn("Redis unavailable ({}): budgets use the local fallback or fail closed per tenant until it recovers",
          cause.getClass().getSimpleName());
    }
    if (!LuaScript.isCorruption(cause)) return Future.succeededFuture();
    Request del = Request.cmd(Command.DEL);
    keys.forEach(del::arg);
    return redis.send(del).timeout(timeoutMillis, TimeUnit.MILLISECONDS).<Void>mapEmpty().otherwiseEmpty();
  }

  public long redisErrors() {
    return redisErrors.sum();
  }
}
