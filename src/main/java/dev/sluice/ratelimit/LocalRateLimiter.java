package dev.sluice.ratelimit;

import dev.sluice.config.TenantLimits;
import dev.sluice.usage.CostCalculator;
import io.vertx.core.Future;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * In-memory limiter for one process: exact across all event loops (one lock-free compare-and-set per decision on
 * an immutable per-tenant state). Also the fail-open fallback of the Redis limiter, with every limit divided by the
 * number of live replicas. Same arithmetic as {@code admit.lua}.
 */
public final class LocalRateLimiter implements RateLimiter {
  static final double WINDOW_MS = 60_000.0;

  private record State(double requests, double tokens, long atMillis, int inFlight) {}

  /** Rates per minute and capacities after the replica share; 0 = unlimited. */
  private record Shape(long requestRate, long requestCap, long tokenRate, long tokenCap, long maxInFlight) {}

  private final ConcurrentHashMap<String, AtomicReference<State>> tenants = new ConcurrentHashMap<>();
  private final LongSupplier clock;
  private final IntSupplier divisor;

  /**
   * @param clock milliseconds, injected so tests advance time instead of sleeping
   * @param divisor each limit is divided by this (1 normally; the replica count when standing in for Redis)
   */
  public LocalRateLimiter(LongSupplier clock, int divisor) {
    this(clock, () -> divisor);
  }

  /** @param divisor read at every decision: the number of live replicas while standing in for Redis */
  public LocalRateLimiter(LongSupplier clock, IntSupplier divisor) {
    this.clock = clock;
    this.divisor = divisor;
  }

  private long share(long limit) {
    return limit <= 0 ? 0 : Math.max(1, limit / Math.max(1, divisor.getAsInt()));
  }

  private Shape shape(TenantLimits limits) {
    return new Shape(share(LimitRequest.orZero(limits.requestsPerMinute())), share(limits.requestCapacity()),
        share(LimitRequest.orZero(limits.tokensPerMinute())), share(limits.tokenCapacity()),
        share(LimitRequest.orZero(limits.maxInFlight())));
  }

  @Override
  public Future<RateLimitDecision> admit(LimitRequest request) {
    return Future.succeededFuture(decide(request));
  }

  RateLimitDecision decide(LimitRequest request) {
    if (request.unlimited()) return RateLimitDecision.UNLIMITED;
    Shape s = shape(request.limits());
    long cost = request.tokenCost();
    AtomicReference<State> ref = state(request.bucket(), s);
    while (true) {
      State old = ref.get();
      long now = Math.max(old.atMillis(), clock.getAsLong());
      long elapsed = now - old.atMillis();
      double req = refill(old.requests(), s.requestRate(), s.requestCap(), elapsed);
      double tok = refill(old.tokens(), s.tokenRate(), s.tokenCap(), elapsed);
      RateLimitDecision.Denial denial = RateLimitDecision.Denial.NONE;
      long retry = 0;
      if (s.maxInFlight() > 0 && old.inFlight() >= s.maxInFlight()) {
        denial = RateLimitDecision.Denial.CONCURRENCY;
        retry = 1000;
      } else if (s.requestRate() > 0 && req < 1) {
        denial = RateLimitDecision.Denial.REQUESTS;
        retry = (long) Math.ceil((1 - req) * WINDOW_MS / s.requestRate());
      } else if (s.tokenRate() > 0 && cost > s.tokenCap()) {
        denial = RateLimitDecision.Denial.LARGER_THAN_BUCKET;
      } else if (s.tokenRate() > 0 && tok < cost) {
        denial = RateLimitDecision.Denial.TOKENS;
        retry = (long) Math.ceil((cost - tok) * WINDOW_MS / s.tokenRate());
      }
      boolean allowed = denial == RateLimitDecision.Denial.NONE;
      if (allowed) {
        if (s.requestRate() > 0) req -= 1;
        if (s.tokenRate() > 0) tok -= cost;
      }
      if (!allowed || ref.compareAndSet(old, new State(req, tok, now, old.inFlight() + (s.maxInFlight() > 0 ? 1 : 0)))) {
        return new RateLimitDecision(denial, s.requestCap(), floor(req), resetMillis(req, s.requestRate(), s.requestCap()),
            s.tokenCap(), floor(tok), resetMillis(tok, s.tokenRate(), s.tokenCap()), retry, false);
      }
    }
  }

  @Override
  public Future<Void> settle(LimitRequest admitted, RateLimitDecision admission, long actualTokens) {
    if (admitted.unlimited() || !admission.allowed()) return Future.succeededFuture();
    AtomicReference<State> ref = tenants.get(admitted.bucket());
    if (ref == null) return Future.succeededFuture();
    Shape s = shape(admitted.limits());
    long delta = admitted.tokenCost() - CostCalculator.tokens(actualTokens); // both bounded: no overflow
    while (true) {
      State old = ref.get();
      long now = Math.max(old.atMillis(), clock.getAsLong());
      long elapsed = now - old.atMillis();
      double tok = s.tokenRate() > 0
          ? Math.min(s.tokenCap(), refill(old.tokens(), s.tokenRate(), s.tokenCap(), elapsed) + delta) : old.tokens();
      double req = refill(old.requests(), s.requestRate(), s.requestCap(), elapsed);
      State next = new State(req, tok, now, Math.max(0, old.inFlight() - (s.maxInFlight() > 0 ? 1 : 0)));
      if (ref.compareAndSet(old, next)) return Future.succeededFuture();
    }
  }

  /** In-flight count for a tenant (tests, admin). */
  public int inFlight(String tenantId) {
    AtomicReference<State> ref = tenants.get(tenantId);
    return ref == null ? 0 : ref.get().inFlight();
  }

  private AtomicReference<State> state(String bucket, Shape s) {
    return tenants.computeIfAbsent(bucket, k -> new AtomicReference<>(new State(s.requestCap(), s.tokenCap(), clock.getAsLong(), 0)));
  }

  private static long floor(double level) {
    return (long) Math.max(0, Math.floor(level));
  }

  private static double refill(double level, long ratePerMinute, long cap, long elapsedMillis) {
    if (ratePerMinute <= 0) return 0;
    return Math.min(cap, level + Math.max(0, elapsedMillis) * ratePerMinute / WINDOW_MS);
  }

  static long resetMillis(double level, long ratePerMinute, long cap) {
    if (ratePerMinute <= 0) return 0;
    return (long) Math.ceil(Math.max(0, cap - level) * WINDOW_MS / ratePerMinute);
  }
}
