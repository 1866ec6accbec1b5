package dev.sluice.ratelimit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import io.vertx.core.Future;

/**
 * In-memory limiter for one process: exact across all event loops (one lock-free compare-and-set per decision on
 * an immutable per-tenant state). Also the fail-open fallback of the Redis limiter, with limits divided by the
 * expected number of replicas.
 */
public final class LocalRateLimiter implements RateLimiter {
  static final double WINDOW_MS = 60_000.0;

  private record State(double requests, double tokens, long atMillis, int inFlight) {}

  private final ConcurrentHashMap<String, AtomicReference<State>> tenants = new ConcurrentHashMap<>();
  private final LongSupplier clock;
  private final int divisor;

  /**
   * @param clock milliseconds, injected so tests advance time instead of sleeping
   * @param divisor each limit is divided by this (1 normally; the replica count when standing in for Redis)
   */
  public LocalRateLimiter(LongSupplier clock, int divisor) {
    this.clock = clock;
    this.divisor = Math.max(1, divisor);
  }

  private long share(Integer limit) {
    return limit == null ? 0 : Math.max(1, limit / divisor);
  }

  @Override
  public Future<RateLimitDecision> admit(LimitRequest request) {
    return Future.succeededFuture(decide(request));
  }

  RateLimitDecision decide(LimitRequest request) {
    if (request.unlimited()) return RateLimitDecision.UNLIMITED;
    long rpm = share(request.limits().requestsPerMinute());
    long tpm = share(request.limits().tokensPerMinute());
    long maxInFlight = share(request.limits().maxInFlight());
    long cost = request.tokenCost();
    AtomicReference<State> ref = tenants.computeIfAbsent(key(request), k -> new AtomicReference<>(new State(rpm, tpm, clock.getAsLong(), 0)));
    while (true) {
      State old = ref.get();
      long now = Math.max(old.atMillis(), clock.getAsLong());
      double req = refill(old.requests(), rpm, now - old.atMillis());
      double tok = refill(old.tokens(), tpm, now - old.atMillis());
      RateLimitDecision.Denial denial = RateLimitDecision.Denial.NONE;
      long retry = 0;
      if (maxInFlight > 0 && old.inFlight() >= maxInFlight) {
        denial = RateLimitDecision.Denial.CONCURRENCY;
        retry = 1000;
      } else if (rpm > 0 && req < 1) {
        denial = RateLimitDecision.Denial.REQUESTS;
        retry = (long) Math.ceil((1 - req) * WINDOW_MS / rpm);
      } else if (tpm > 0 && cost > tpm) {
        denial = RateLimitDecision.Denial.LARGER_THAN_BUCKET;
      } else if (tpm > 0 && tok < cost) {
        denial = RateLimitDecision.Denial.TOKENS;
        retry = (long) Math.ceil((cost - tok) * WINDOW_MS / tpm);
      }
      boolean allowed = denial == RateLimitDecision.Denial.NONE;
      if (allowed) {
        req = rpm > 0 ? req - 1 : req;
        tok = tpm > 0 ? tok - cost : tok;
      }
      State next = allowed ? new State(req, tok, now, old.inFlight() + (maxInFlight > 0 ? 1 : 0)) : old;
      if (!allowed || ref.compareAndSet(old, next)) {
        return new RateLimitDecision(denial, rpm, (long) Math.max(0, Math.floor(req)), resetMillis(req, rpm), tpm,
            (long) Math.max(0, Math.floor(tok)), resetMillis(tok, tpm), retry, false);
      }
    }
  }

  @Override
  public Future<Void> settle(LimitRequest admitted, RateLimitDecision admission, long actualTokens) {
    if (admitted.unlimited()) return Future.succeededFuture();
    AtomicReference<State> ref = tenants.get(key(admitted));
    if (ref == null) return Future.succeededFuture();
    long tpm = share(admitted.limits().tokensPerMinute());
    boolean slot = admitted.limits().maxInFlight() != null;
    long delta = admitted.tokenCost() - actualTokens;
    while (true) {
      State old = ref.get();
      long now = Math.max(old.atMillis(), clock.getAsLong());
      double tok = tpm > 0 ? Math.min(tpm, refill(old.tokens(), tpm, now - old.atMillis()) + delta) : old.tokens();
      double req = refill(old.requests(), share(admitted.limits().requestsPerMinute()), now - old.atMillis());
      State next = new State(req, tok, now, Math.max(0, old.inFlight() - (slot ? 1 : 0)));
      if (ref.compareAndSet(old, next)) return Future.succeededFuture();
    }
  }

  /** In-flight count for a tenant (tests, admin). */
  public int inFlight(String tenantId) {
    AtomicReference<State> ref = tenants.get(tenantId);
    return ref == null ? 0 : ref.get().inFlight();
  }

  private static String key(LimitRequest request) {
    return request.tenantId();
  }

  private static double refill(double level, long limit, long elapsedMillis) {
    if (limit <= 0) return 0;
    return Math.min(limit, level + Math.max(0, elapsedMillis) * limit / WINDOW_MS);
  }

  static long resetMillis(double level, long limit) {
    if (limit <= 0) return 0;
    return (long) Math.ceil(Math.max(0, limit - level) * WINDOW_MS / limit);
  }
}
