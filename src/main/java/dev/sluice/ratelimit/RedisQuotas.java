package dev.sluice.ratelimit;

import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.redis.LuaScript;
import dev.sluice.redis.RedisBreaker;
import dev.sluice.redis.RedisFailure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Limits, budgets and the spend ledger shared by every replica, one Redis round trip each way: {@code admit.lua}
 * decides the request bucket, token bucket, in-flight lease and budget reservation at once; {@code settle.lua} frees
 * the lease, refunds tokens, replaces the reservation by the actual cost and books that cost in the ledger, exactly
 * once per (gateway-generated) request id. All of a tenant's keys share the {@code {t:<id>}} hash tag (Redis Cluster);
 * time is Redis {@code TIME}; every key has a TTL.
 *
 * <p>Redis unavailable (judged by {@link RedisBreaker} on Redis's failures only): a tenant is served by local buckets
 * holding {@code limit ÷ live replicas} (fail-open, the default; counted in {@link #degradedDecisions()}) or refused
 * (fail-closed). A decision whose reply was lost (timeout, dropped connection: the script may have run) is settled
 * in Redis anyway, in the mode that is idempotent either way, so no lease or reservation is orphaned. A settlement
 * that cannot reach Redis is retried in the background until it lands; only one given up counts as an error.
 *
 * <p>Redis that lost its data: each replica remembers the spend it last saw per tenant and month and passes it with
 * every admission; the script takes it when the account has no budget fields (see docs/operations.md, "Redis").
 */
public final class RedisQuotas implements Quotas, RateLimiter, BudgetGuard {
  private static final Logger LOG = LoggerFactory.getLogger(RedisQuotas.class);
  /** A lease outlives its request by at most this; running requests renew theirs every {@link #RENEW_MILLIS}. */
  static final long LEASE_MILLIS = 60_000;
  static final long RENEW_MILLIS = 20_000;
  /** Accounts hold the ledger: kept for 400 days after their month began. */
  static final long ACCOUNT_TTL_SECONDS = 400L * 86_400;
  /** Long enough for every retry of a settlement; a booking marker is only needed while a duplicate can come. */
  static final long MARKER_TTL_SECONDS = 3_600;
  static final long MAX_TOKEN_COST = 1_000_000_000_000_000L; // 1e15: checked again by the script
  private static final long RETRY_MILLIS = 1_000;
  /** Beyond the longest a command can wait in our pool and in Redis before it runs or fails. */
  static final long RECHECK_MILLIS = 5_000;
  private static final int MAX_RETRIES = 1_800; // ≈ 30 min of an outage
  private static final int MAX_PENDING = 100_000;

  private final Vertx vertx;
  private final Redis redis;
  private final long timeoutMillis;
  private final RedisBreaker breaker;
  private final LocalRateLimiter fallbackLimits;
  private final LocalBudgetGuard fallbackBudgets;
  private final LongSupplier clock;
  /** Requests admitted in Redis (or possibly: reply lost) and not yet settled. */
  private final Map<String, Open> open = new ConcurrentHashMap<>();
  /** Settlements that book the ledger: the usage event waits for these instead of booking again. */
  private final Map<String, Future<Void>> ownedBookings = new ConcurrentHashMap<>();
  /** Per tenant and month, the largest spend seen: re-seeds an account Redis lost. */
  private final Map<String, long[]> seen = new ConcurrentHashMap<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final LongAdder redisErrors = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final LongAdder degradedDecisions = new LongAdder();
  private final LongAdder corruptKeys = new LongAdder();
  private final LongAdder badArguments = new LongAdder();
  private long renewTimer = -1;

  private record Open(String tenant, String scope, LocalDate day, boolean leased, boolean uncertain) {}

  public RedisQuotas(Vertx vertx, Redis redis, long timeoutMillis, RedisBreaker breaker, LocalRateLimiter fallbackLimits,
                     LocalBudgetGuard fallbackBudgets, LongSupplier clockMillis) {
    this.vertx = vertx;
    this.redis = redis;
    this.timeoutMillis = timeoutMillis;
    this.breaker = breaker;
    this.fallbackLimits = fallbackLimits;
    this.fallbackBudgets = fallbackBudgets;
    this.clock = clockMillis;
  }

  /** Starts renewing the leases of running requests. */
  public RedisQuotas start() {
    renewTimer = vertx.setPeriodic(RENEW_MILLIS, id -> renewLeases());
    return this;
  }

  public void stop() {
    if (renewTimer >= 0) vertx.cancelTimer(renewTimer);
  }

  static String tag(String tenant) {
    return "{t:" + tenant + "}";
  }

  static String account(String tenant, LocalDate day) {
    return "sluice:acct:" + tag(tenant) + ":" + day.toString().substring(0, 7);
  }

  static String leaseKey(String tenant, String scope) {
    return "sluice:rl:" + tag(tenant) + ":" + (scope.isEmpty() ? "" : "m:" + scope + ":") + "inflight";
  }

  static String marker(String tenant, String requestId) {
    return "sluice:acct:" + tag(tenant) + ":done:" + requestId;
  }

  private static String scopeSuffix(String scope) {
    return scope.isEmpty() ? "" : ":" + scope;
  }

  // ---- admission ----

  @Override
  public Future<RateLimitDecision> admit(LimitRequest request) {
    return admit(request, null).map(QuotaDecision::limit);
  }

  @Override
  public Future<BudgetDecision> reserve(BudgetRequest request) {
    LimitRequest none = new LimitRequest(request.tenantId(), request.requestId(), dev.sluice.config.TenantLimits.UNLIMITED, 0,
        request.onRedisFailure());
    return admit(none, request).map(d -> d.budget() == null ? BudgetDecision.UNCAPPED : d.budget());
  }

  @Override
  public Future<QuotaDecision> admit(LimitRequest limits, BudgetRequest budget) {
    boolean capped = budget != null && !budget.uncapped();
    if (limits.unlimited() && !capped) return Future.succeededFuture(new QuotaDecision(RateLimitDecision.UNLIMITED, null));
    boolean tokenLimited = limits.limits().tokensPerMinute() != null;
    if (tokenLimited && limits.tokenCost() > MAX_TOKEN_COST) {
      return Future.succeededFuture(new QuotaDecision(new RateLimitDecision(RateLimitDecision.Denial.LARGER_THAN_BUCKET,
          limits.limits().requestCapacity(), 0, 0, limits.limits().tokenCapacity(), 0, 0, 0, false), null));
    }
    LocalDate day = capped ? budget.day() : Instant.ofEpochMilli(clock.getAsLong()).atZone(ZoneOffset.UTC).toLocalDate();
    if (!breaker.allowRequest()) return Future.succeededFuture(degrade(limits, budget, capped));
    long dayCap = capped ? BudgetRequest.cap(budget.budget().dailyUsd()) : -1;
    long monthCap = capped ? BudgetRequest.cap(budget.budget().monthlyUsd()) : -1;
    long estimate = capped ? BudgetRequest.nanos(budget.estimatedUsd()) : 0;
    long[] seed = seeds(limits.tenantId(), day);
    boolean leased = LimitRequest.orZero(limits.limits().maxInFlight()) > 0;
    List<String> keys = List.of(account(limits.tenantId(), day), account(limits.tenantId(), day.minusMonths(1)),
        leaseKey(limits.tenantId(), limits.scope()));
    List<String> args = List.of(
        Long.toString(LimitRequest.orZero(limits.limits().requestsPerMinute())),
        Long.toString(LimitRequest.orZero(limits.limits().tokensPerMinute())),
        Long.toString(tokenLimited ? limits.tokenCost() : 0),
        Long.toString(LimitRequest.orZero(limits.limits().maxInFlight())),
        limits.requestId(),
        Long.toString(LEASE_MILLIS),
        Long.toString(limits.limits().requestCapacity()),
        Long.toString(limits.limits().tokenCapacity()),
        scopeSuffix(limits.scope()),
        Integer.toString(day.getDayOfMonth()),
        Long.toString(dayCap), Long.toString(monthCap), Long.toString(Math.max(0, estimate)),
        Long.toString(ACCOUNT_TTL_SECONDS),
        Long.toString(seed[0]), Long.toString(seed[1]), Long.toString(seed[2]), Long.toString(seed[3]));
    return QuotaScripts.ADMIT.run(vertx, redis, keys, args, timeoutMillis).transform(ar -> {
      if (ar.succeeded()) {
        breaker.onSuccess();
        Response r = ar.result();
        remember(limits.tenantId(), day, r.get(6).toLong(), r.get(7).toLong(), r.get(8).toLong(), r.get(9).toLong());
        QuotaDecision decision = toDecision(r, limits, capped, dayCap, monthCap);
        if (decision.allowed()) open.put(limits.requestId(), new Open(limits.tenantId(), limits.scope(), day, leased, false));
        return Future.succeededFuture(decision);
      }
      Throwable cause = ar.cause();
      if (RedisFailure.isBadArgument(cause)) {
        breaker.onIgnored();
        badArguments.increment();
        LOG.error("bug: the admission script refused its arguments ({}); request refused", cause.getMessage());
        return Future.succeededFuture(new QuotaDecision(unavailable(), null));
      }
      boolean mayHaveRun = RedisFailure.mayHaveRun(cause);
      return onError("admit", cause, keys).map(v -> {
        QuotaDecision local = degrade(limits, budget, capped);
        if (mayHaveRun) {
          // The script may have run and its reply been lost: reconcile in Redis too, whatever happens locally. An
          // admitted request does it when it ends; a refused one hands back at once what Redis may hold for it.
          Open held = new Open(limits.tenantId(), limits.scope(), day, leased, true);
          if (local.allowed()) open.put(limits.requestId(), held);
          else reconcile(settlement(held, limits, budget, capped, limits.tokenCost(), 0));
        }
        return local;
      });
    });
  }

  private static QuotaDecision toDecision(Response r, LimitRequest request, boolean capped, long dayCap, long monthCap) {
    int code = r.get(0).toInteger();
    RateLimitDecision.Denial denial = switch (code) {
      case 0, 5 -> RateLimitDecision.Denial.NONE;
      case 1 -> RateLimitDecision.Denial.REQUESTS;
      case 2 -> RateLimitDecision.Denial.TOKENS;
      case 3 -> RateLimitDecision.Denial.CONCURRENCY;
      default -> RateLimitDecision.Denial.LARGER_THAN_BUCKET;
    };
    RateLimitDecision limit = request.unlimited() ? RateLimitDecision.UNLIMITED
        : new RateLimitDecision(denial, request.limits().requestCapacity(), r.get(1).toLong(), r.get(2).toLong(),
            request.limits().tokenCapacity(), r.get(3).toLong(), r.get(4).toLong(), r.get(5).toLong(), false);
    if (!capped || !limit.allowed()) return new QuotaDecision(limit, null);
    boolean allowed = code != 5;
    double remaining = LocalBudgetGuard.remaining(dayCap, r.get(6).toLong(), monthCap, r.get(7).toLong());
    return new QuotaDecision(limit, new BudgetDecision(allowed, allowed ? remaining : 0, false, false));
  }

  private static RateLimitDecision unavailable() {
    return new RateLimitDecision(RateLimitDecision.Denial.LIMITER_UNAVAILABLE, 0, 0, 0, 0, 0, 0, 1000, true);
  }

  /** The local decision while Redis is away: every one counted, limits and budget alike. */
  private QuotaDecision degrade(LimitRequest limits, BudgetRequest budget, boolean capped) {
    degradedDecisions.increment();
    if (limits.onRedisFailure() == RedisFailurePolicy.FAIL_CLOSED) {
      return new QuotaDecision(unavailable(), capped ? new BudgetDecision(false, 0, true, true) : null);
    }
    RateLimitDecision limit = fallbackLimits.decide(limits).asDegraded();
    if (!capped || !limit.allowed()) return new QuotaDecision(limit, null);
    BudgetDecision local = fallbackBudgets.decide(budget);
    if (!local.allowed()) fallbackLimits.settle(limits, limit, 0);
    return new QuotaDecision(limit, new BudgetDecision(local.allowed(), local.remainingUsd(), true, false));
  }

  // ---- settlement ----

  @Override
  public Future<Void> settle(LimitRequest admitted, RateLimitDecision admission, long actualTokens) {
    return settle(admitted, admission, null, null, actualTokens, 0);
  }

  @Override
  public Future<Void> settle(BudgetRequest request, BudgetDecision admission, double actualUsd) {
    return settle(null, null, request, admission, 0, actualUsd);
  }

  @Override
  public Future<Void> settle(LimitRequest limits, RateLimitDecision limit, BudgetRequest budget,
                             BudgetDecision budgetDecision, long actualTokens, double actualUsd) {
    boolean limited = limits != null && limit != null && limit.allowed() && !limits.unlimited();
    boolean capped = budget != null && budgetDecision != null && budgetDecision.allowed() && !budget.uncapped();
    if (!limited && !capped) return Future.succeededFuture(); // nothing held in Redis; the usage event books the ledger
    String requestId = limits != null ? limits.requestId() : budget.requestId();
    boolean degraded = (limited && limit.degraded()) || (capped && budgetDecision.degraded());
    if (degraded) {
      if (limited) fallbackLimits.settle(limits, limit, actualTokens);
      if (capped) fallbackBudgets.settle(budget, budgetDecision, actualUsd);
    }
    Open held = open.remove(requestId);
    if (held == null) return Future.succeededFuture(); // decided locally, Redis untouched: the usage event books it
    long tokenDelta = limited ? limits.tokenCost() - actualTokens : 0;
    Settlement settlement = settlement(held, limits, budget, capped, tokenDelta, actualUsd);
    Future<Void> booked = held.uncertain() ? reconcile(settlement) : submit(settlement);
    if (actualUsd > 0) ownedBookings.put(requestId, booked);
    return booked;
  }

  private static Settlement settlement(Open held, LimitRequest limits, BudgetRequest budget, boolean capped,
                                       long tokenDelta, double actualUsd) {
    boolean tokenLimited = limits != null && limits.limits().tokensPerMinute() != null;
    String requestId = limits != null ? limits.requestId() : budget.requestId();
    return new Settlement(held.tenant(), held.scope(), requestId, held.uncertain() ? "u" : "n",
        tokenLimited ? Math.max(-MAX_TOKEN_COST, Math.min(MAX_TOKEN_COST, tokenDelta)) : 0, held.day(),
        capped ? BudgetRequest.nanos(budget.estimatedUsd()) : 0, Math.max(0, BudgetRequest.nanos(actualUsd)), held.leased());
  }

  /**
   * Books a usage event's cost in the ledger unless this request's settlement already does (then waits for it).
   * Idempotent per request id.
   */
  public Future<Void> bookSpend(String tenant, String requestId, LocalDate day, double usd) {
    Future<Void> owned = ownedBookings.remove(requestId);
    if (owned != null) return owned;
    return submit(new Settlement(tenant, "", requestId, "l", 0, day, 0, Math.max(0, BudgetRequest.nanos(usd)), false));
  }

  private record Settlement(String tenant, String scope, String requestId, String mode, long tokenDelta, LocalDate day,
                            long estimate, long cost, boolean leased) {
    Settlement retry() {
      return "n".equals(mode) ? new Settlement(tenant, scope, requestId, "r", tokenDelta, day, estimate, cost, leased) : this;
    }
  }

  /**
   * Settles an admission whose reply was lost. Its script may still be queued in Redis behind a stall and run after
   * this settlement (another connection), so the settlement is sent once more {@link #RECHECK_MILLIS} later: in mode
   * {@code u} each part lands exactly once, whichever order they ran in.
   */
  private Future<Void> reconcile(Settlement s) {
    Future<Void> first = submit(s);
    vertx.setTimer(RECHECK_MILLIS, id -> submit(s));
    return first;
  }

  /** Completes after the first attempt; a failed one is retried in the background until it lands. */
  private Future<Void> submit(Settlement s) {
    Promise<Void> first = Promise.promise();
    attempt(s, 0, first);
    return first.future();
  }

  private void attempt(Settlement s, int attempt, Promise<Void> first) {
    if (!breaker.allowRequest()) {
      retryLater(s, attempt, first, null);
      return;
    }
    List<String> keys = List.of(account(s.tenant(), s.day()), leaseKey(s.tenant(), s.scope()), marker(s.tenant(), s.requestId()));
    List<String> args = List.of(s.requestId(), s.mode(), Long.toString(s.tokenDelta()), scopeSuffix(s.scope()),
        Integer.toString(s.day().getDayOfMonth()), Long.toString(s.estimate()), Long.toString(s.cost()),
        s.leased() ? "1" : "0", Long.toString(MARKER_TTL_SECONDS), Long.toString(ACCOUNT_TTL_SECONDS));
    QuotaScripts.SETTLE.run(vertx, redis, keys, args, timeoutMillis * 4).onComplete(ar -> {
      if (attempt > 0) pending.decrementAndGet();
      if (ar.succeeded()) {
        breaker.onSuccess();
        Response r = ar.result();
        if (r.get(0).toInteger() > 0) {
          remember(s.tenant(), s.day(), r.get(3).toLong(), r.get(4).toLong(), r.get(1).toLong(), r.get(2).toLong());
        }
        first.tryComplete();
        return;
      }
      Throwable cause = ar.cause();
      if (RedisFailure.isBadArgument(cause)) {
        breaker.onIgnored();
        badArguments.increment();
        LOG.error("bug: the settlement script refused its arguments ({}); not booked", cause.getMessage());
        first.tryComplete();
        return;
      }
      if (LuaScript.isCorruption(cause)) {
        onError("settle", cause, keys).onComplete(x -> retryLater(s, attempt, first, cause));
        return;
      }
      if (breaker.report(cause)) logOutage(cause);
      retryLater(s, attempt, first, cause);
    });
  }

  private void retryLater(Settlement s, int attempt, Promise<Void> first, Throwable cause) {
    first.tryComplete();
    if (attempt >= MAX_RETRIES || pending.get() >= MAX_PENDING) {
      redisErrors.increment();
      LOG.error("settlement of request {} given up after {} attempts ({}): its lease expires on its own; booking lost",
          s.requestId(), attempt + 1, cause == null ? "Redis unavailable" : cause.toString());
      return;
    }
    retries.increment();
    pending.incrementAndGet();
    long delay = RETRY_MILLIS / 2 + ThreadLocalRandom.current().nextLong(RETRY_MILLIS);
    vertx.setTimer(delay, id -> attempt(s.retry(), attempt + 1, first));
  }

  // ---- leases, memory, errors ----

  private void renewLeases() {
    Map<String, List<String>> byKey = new HashMap<>();
    open.forEach((id, o) -> {
      if (o.leased()) byKey.computeIfAbsent(leaseKey(o.tenant(), o.scope()), k -> new ArrayList<>()).add(id);
    });
    byKey.forEach((key, ids) -> {
      if (!breaker.allowRequest()) return;
      List<String> args = new ArrayList<>(ids.size() + 1);
      args.add(Long.toString(LEASE_MILLIS));
      args.addAll(ids);
      QuotaScripts.RENEW.run(vertx, redis, List.of(key), args, timeoutMillis * 4).onComplete(ar -> {
        if (ar.succeeded()) breaker.onSuccess();
        else breaker.report(ar.cause());
      });
    });
  }

  private long[] seeds(String tenant, LocalDate day) {
    long[] s = seen.get(tenant + "|" + day.toString().substring(0, 7));
    if (s == null) return new long[4];
    boolean sameDay = s[4] == day.getDayOfMonth();
    return new long[] {sameDay ? s[0] : 0, s[1], sameDay ? s[2] : 0, s[3]};
  }

  /** Keeps the largest spend seen per tenant and month (bd, bm, sd, sm, day of month of bd/sd). */
  private void remember(String tenant, LocalDate day, long bd, long bm, long sd, long sm) {
    seen.compute(tenant + "|" + day.toString().substring(0, 7), (k, old) -> {
      if (old == null || old[4] != day.getDayOfMonth()) {
        return new long[] {bd, Math.max(bm, old == null ? 0 : old[1]), sd, Math.max(sm, old == null ? 0 : old[3]), day.getDayOfMonth()};
      }
      return new long[] {Math.max(old[0], bd), Math.max(old[1], bm), Math.max(old[2], sd), Math.max(old[3], sm), old[4]};
    });
  }

  /** The settled spend this replica last saw for a tenant and day (USD, day then month), or null. */
  public double[] lastSeenSpend(String tenant, LocalDate day) {
    long[] s = seen.get(tenant + "|" + day.toString().substring(0, 7));
    if (s == null || s[4] != day.getDayOfMonth()) return null;
    return new double[] {s[2] / 1e9, s[3] / 1e9};
  }

  /** Counts a failure; for corrupt fields, completes once they are removed (bounded by the command timeout). */
  private Future<Void> onError(String op, Throwable cause, List<String> keys) {
    if (LuaScript.isCorruption(cause)) {
      breaker.onIgnored();
      corruptKeys.increment();
      LOG.warn("quota keys were corrupt and are reset (op={})", op);
      String message = String.valueOf(cause.getMessage());
      String[] parts = message.split(" ");
      Request repair;
      if (message.startsWith("SLUICE_CORRUPT") && parts.length >= 3) {
        repair = Request.cmd(Command.HDEL).arg(parts[1]).arg(parts[2]); // one bad field; the ledger stays
      } else {
        repair = Request.cmd(Command.DEL);
        keys.forEach(repair::arg);
      }
      return RedisFailure.within(redis.send(repair), timeoutMillis).<Void>mapEmpty().otherwiseEmpty();
    }
    if (RedisFailure.countsAgainstRedis(cause)) redisErrors.increment();
    if (breaker.report(cause)) logOutage(cause);
    LOG.debug("redis {} failed: {}", op, cause.toString());
    return Future.succeededFuture();
  }

  private static void logOutage(Throwable cause) {
    LOG.warn("Redis unavailable ({}): limits and budgets use the local share or fail closed per tenant until it recovers",
        cause.getClass().getSimpleName());
  }

  /** Failed Redis commands that were Redis's fault, plus settlements given up. */
  public long redisErrors() {
    return redisErrors.sum();
  }

  /** Settlement attempts repeated after a failure (most land later and are not errors). */
  public long retries() {
    return retries.sum();
  }

  /** Decisions made locally (limits and budget alike) because Redis was unavailable or did not answer. */
  public long degradedDecisions() {
    return degradedDecisions.sum();
  }

  public long corruptKeys() {
    return corruptKeys.sum();
  }

  /** Script arguments refused: always a bug on our side. */
  public long badArguments() {
    return badArguments.sum();
  }

  /** Requests admitted in Redis and not settled yet (tests, metrics). */
  public int openAdmissions() {
    return open.size();
  }
}
