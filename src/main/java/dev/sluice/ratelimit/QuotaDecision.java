package dev.sluice.ratelimit;

/**
 * Limits and budget decided together. {@code budget} is null when the tenant has no caps or the limits already
 * refused; a request may proceed only when {@link #allowed()}. When the budget refused, nothing was consumed.
 */
public record QuotaDecision(RateLimitDecision limit, BudgetDecision budget) {
  public boolean allowed() {
    return limit.allowed() && (budget == null || budget.allowed());
  }
}
