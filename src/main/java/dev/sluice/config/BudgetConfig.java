package dev.sluice.config;

/** Spend caps in USD; a null field means no cap. */
public record BudgetConfig(Double dailyUsd, Double monthlyUsd) {
  public static final BudgetConfig NONE = new BudgetConfig(null, null);

  public BudgetConfig {
    Checks.nonNegativeMoney("daily-usd", dailyUsd);
    Checks.nonNegativeMoney("monthly-usd", monthlyUsd);
  }
}
