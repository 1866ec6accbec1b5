package dev.sluice.usage;

import dev.sluice.config.Pricing;
import java.util.Map;

/**
 * USD cost from the {@code pricing} table (per 1M tokens, keyed by upstream model). Cached prompt tokens are billed
 * at the cached-input rate, cache writes at the cache-write rate. An unknown model costs 0 (and is reported by the
 * caller so it can be counted).
 */
public final class CostCalculator {
  private final Map<String, Pricing> pricing;

  public CostCalculator(Map<String, Pricing> pricing) {
    this.pricing = Map.copyOf(pricing);
  }

  public boolean knows(String model) {
    return model != null && pricing.containsKey(model);
  }

  /**
   * @param promptTokens all prompt tokens, including cached and cache-write ones
   */
  public double cost(String model, long promptTokens, long cachedTokens, long cacheWriteTokens, long completionTokens) {
    Pricing p = model == null ? null : pricing.get(model);
    if (p == null) return 0.0;
    long uncached = Math.max(0, promptTokens - cachedTokens - cacheWriteTokens);
    return (uncached * p.input() + cachedTokens * p.cachedInput() + cacheWriteTokens * p.cacheWrite()
        + completionTokens * p.output()) / 1_000_000.0;
  }

  /** The most a request can cost: every prompt token uncached and every allowed output token produced. */
  public double worstCase(String model, long promptTokens, long maxOutputTokens) {
    return cost(model, promptTokens, 0, 0, maxOutputTokens);
  }
}
