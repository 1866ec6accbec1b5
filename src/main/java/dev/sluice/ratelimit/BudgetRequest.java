package dev.sluice.ratelimit;

import dev.sluice.config.BudgetConfig;
import dev.sluice.config.RedisFailurePolicy;
import java.time.LocalDate;

/**
 * A spend reservation: the worst-case cost of a request against its tenant's caps, for the UTC day it started
 * (settlement books to the same day and month even across midnight).
 */
public record BudgetRequest(String tenantId, String requestId, BudgetConfig budget, double estimatedUsd,
                            LocalDate day, RedisFailurePolicy onRedisFailure) {
  public boolean uncapped() {
    return budget.dailyUsd() == null && budget.monthlyUsd() == null;
  }

  static long nanos(double usd) {
    return Math.round(usd * 1e9);
  }

  static long cap(Double usd) {
    return usd == null ? -1 : nanos(usd);
  }
}
