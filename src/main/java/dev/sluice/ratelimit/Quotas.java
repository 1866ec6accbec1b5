package dev.sluice.ratelimit;

import io.vertx.core.Future;

/**
 * Admission and settlement of one request against its tenant's limits and budget together, so a shared backend can
 * decide both in one round trip ({@link RedisQuotas}: one script each way). In memory they are the limiter then the
 * budget ({@link #of}).
 */
public interface Quotas {
  /** @param budget the reservation, or null when the tenant has no caps */
  Future<QuotaDecision> admit(LimitRequest limits, BudgetRequest budget);

  /**
   * Books what an admitted request really used, exactly once, on every exit path. Arguments are those of
   * {@link #admit} and its decision; {@code budget}/{@code budgetDecision} are null when no budget was reserved.
   * Completes once the first attempt is done (a shared backend retries a failed one in the background).
   */
  Future<Void> settle(LimitRequest limits, RateLimitDecision limit, BudgetRequest budget, BudgetDecision budgetDecision,
              long actualTokens, double actualUsd);

  /** One object serving as both (the Redis backend) is used as is; else the limiter, then the budget. */
  static Quotas of(RateLimiter limiter, BudgetGuard budgets) {
    if (limiter instanceof Quotas quotas && limiter == budgets) return quotas;
    return new Sequential(limiter, budgets);
  }

  /** The limiter, then (if it admitted) the budget; a budget refusal hands the limiter's reservation back. */
  record Sequential(RateLimiter limiter, BudgetGuard budgets) implements Quotas {
    @Override
    public Future<QuotaDecision> admit(LimitRequest limits, BudgetRequest budget) {
      return limiter.admit(limits).compose(decision -> {
        if (!decision.allowed() || budget == null || budget.uncapped()) return Future.succeededFuture(new QuotaDecision(decision, null));
        return budgets.reserve(budget).map(verdict -> {
          if (!verdict.allowed()) limiter.settle(limits, decision, 0);
          return new QuotaDecision(decision, verdict);
        });
      });
    }

    @Override
    public Future<Void> settle(LimitRequest limits, RateLimitDecision limit, BudgetRequest budget,
                               BudgetDecision budgetDecision, long actualTokens, double actualUsd) {
      Future<Void> limitsDone = limits != null && limit != null ? limiter.settle(limits, limit, actualTokens) : Future.succeededFuture();
      Future<Void> budgetDone = budget != null && budgetDecision != null ? budgets.settle(budget, budgetDecision, actualUsd)
          : Future.succeededFuture();
      return Future.all(limitsDone, budgetDone).mapEmpty();
    }
  }
}
