package dev.sluice.config;

/** Spend caps in USD; a null field means no cap. */
public record BudgetConfig(Double dailyUsd, Double monthlyUsd) {
  public static final BudgetConfig NONE = new BudgetConfig(null, null);
  /**
   * The largest cap: USD 9,000,000 (9·10^15 nano-USD). Shared budgets are kept in Redis, whose Lua numbers are doubles,
   * exact only up to 2^53 ≈ 9.007·10^15: a larger cap would be refused by the scripts' argument checks.
   */
  public static final double MAX_USD = 9_000_000;

  public BudgetConfig {
    Checks.nonNegativeMoney("daily-usd", dailyUsd, MAX_USD);
    Checks.nonNegativeMoney("monthly-usd", monthlyUsd, MAX_USD);
  }
}
