package dev.sluice.ratelimit;

import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.config.TenantLimits;
import dev.sluice.usage.CostCalculator;

/**
 * One admission question: may this tenant start this request, reserving {@code tokenCost} tokens (prompt estimate
 * plus maximum output)? The same value is passed back to {@link RateLimiter#settle}.
 *
 * @param scope the model alias when limits are kept per tenant and alias ({@code limits.per-model}), else empty
 */
public record LimitRequest(String tenantId, String scope, String requestId, TenantLimits limits, long tokenCost,
                           RedisFailurePolicy onRedisFailure) {
  /** The cost is clamped to {@code 0..}{@link CostCalculator#MAX_TOKENS}: what reaches a bucket or Redis is bounded. */
  public LimitRequest {
    tokenCost = CostCalculator.tokens(tokenCost);
  }

  public LimitRequest(String tenantId, String requestId, TenantLimits limits, long tokenCost, RedisFailurePolicy onRedisFailure) {
    this(tenantId, "", requestId, limits, tokenCost, onRedisFailure);
  }

  /** The bucket this request draws from. */
  String bucket() {
    return scope.isEmpty() ? tenantId : tenantId + "\u0000" + scope;
  }

  public boolean unlimited() {
    return limits.requestsPerMinute() == null && limits.tokensPerMinute() == null && limits.maxInFlight() == null;
  }

  static long orZero(Integer value) {
    return value == null ? 0 : value;
  }
}
