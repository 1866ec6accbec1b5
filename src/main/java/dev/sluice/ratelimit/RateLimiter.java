package dev.sluice.ratelimit;

import io.vertx.core.Future;

/**
 * Per-tenant token buckets (requests and tokens per minute, burst = the per-minute limit) and an in-flight cap.
 * Knows nothing of HTTP: callers map a denial to 429/503 and headers. Every admitted request must be settled exactly
 * once, on every exit path; settlement returns the unused part of the token reservation and frees the slot.
 */
public interface RateLimiter {
  Future<RateLimitDecision> admit(LimitRequest request);

  /**
   * @param admission the decision that admitted the request (says which backend holds its reservation)
   * @param actualTokens tokens really consumed (prompt + completion); may exceed the reservation
   */
  Future<Void> settle(LimitRequest admitted, RateLimitDecision admission, long actualTokens);
}
