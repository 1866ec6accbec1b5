package dev.sluice.ratelimit;

import io.vertx.core.Future;

/**
 * Daily and monthly USD caps per tenant. Admission reserves the worst-case cost so concurrent requests cannot
 * overspend; settlement replaces the reservation with the actual cost.
 */
public interface BudgetGuard {
  Future<BudgetDecision> reserve(BudgetRequest request);

  Future<Void> settle(BudgetRequest request, BudgetDecision admission, double actualUsd);
}
