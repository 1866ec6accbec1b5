package dev.sluice.ratelimit;

import dev.sluice.config.BudgetConfig;
import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.usage.CostCalculator;
import java.time.LocalDate;

/**
 * A spend reservation: the worst-case cost of a request against its tenant's caps, for the UTC day it started
 * (settlement books to the same day and month even across midnight).
 */
public record BudgetRequest(String tenantId, String requestId, BudgetConfig budget, double estimatedUsd,
                            LocalDate day, RedisFailurePolicy onRedisFailure) {
  /** The estimate is clamped to {@code 0..}{@link CostCalculator#MAX_REQUEST_USD} (NaN: the ceiling). */
  public BudgetRequest {
    estimatedUsd = nanos(estimatedUsd) / 1e9;
  }

  public boolean uncapped() {
    return budget.dailyUsd() == null && budget.monthlyUsd() == null;
  }

  /** A cost in nano-USD, clamped to {@code 0..}{@link CostCalculator#MAX_REQUEST_NANOS}. */
  static long nanos(double usd) {
    return CostCalculator.nanos(usd);
  }

  /** A cap in nano-USD, or -1 for none; config keeps caps within {@link BudgetConfig#MAX_USD}, so this cannot overflow. */
  static long cap(Double usd) {
    return usd == null ? -1 : Math.round(Math.min(usd, BudgetConfig.MAX_USD) * 1e9);
  }

  /** {@code a + b}, pinned to the long range instead of wrapping. */
  static long saturatedAdd(long a, long b) {
    long sum = a + b;
    if (((a ^ sum) & (b ^ sum)) < 0) return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    return sum;
  }
}
