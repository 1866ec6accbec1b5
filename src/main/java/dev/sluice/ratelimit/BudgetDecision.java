package dev.sluice.ratelimit;

/**
 * Whether a request's worst-case cost fits the tenant's remaining budget. {@code remainingUsd} is the smaller of the
 * day and month remainders after this reservation (or -1 with no caps). {@code unavailable}: Redis is down and the
 * tenant is fail-closed.
 */
public record BudgetDecision(boolean allowed, double remainingUsd, boolean degraded, boolean unavailable) {
  public static final BudgetDecision UNCAPPED = new BudgetDecision(true, -1, false, false);
}
