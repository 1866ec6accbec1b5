package dev.sluice.config;

/** Spend caps in USD; a null field means no cap. */
public record BudgetConfig(Double dailyUsd, Double monthlyUsd) {
  public static final BudgetConfig NONE = new BudgetConfig(null, null);
  /** The largest cap: USD 10^9, 10^18 nano-USD, well inside a signed 64-bit counter. */
  public static final double MAX_USD = 1e9;

  public BudgetConfig {
    Checks.nonNegativeMoney("daily-usd", dailyUsd, MAX_USD);
    Checks.nonNegativeMoney("monthly-usd", monthlyUsd, MAX_USD);
  }
}
