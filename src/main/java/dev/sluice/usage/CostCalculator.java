package dev.sluice.usage;

import dev.sluice.config.Pricing;
import java.util.Map;

/**
 * USD cost from the {@code pricing} table (per 1M tokens, keyed by upstream model). Cached prompt tokens are billed
 * at the cached-input rate, cache writes at the cache-write rate. An unknown model costs 0 (and is reported by the
 * caller so it can be counted).
 *
 * <p>Bounded by construction: token counts are clamped to {@code 0..}{@link #MAX_TOKENS} and one request's cost to
 * {@link #MAX_REQUEST_USD}, so nothing derived from it (reservations, settlement deltas, nano-USD counters in memory
 * or Redis, metrics) can overflow or go negative, whatever a client asks or a provider reports.
 */
public final class CostCalculator {
  /** More tokens than any request can use (2^40 ≈ 1.1e12); larger reported counts are clamped to it. */
  public static final long MAX_TOKENS = 1L << 40;
  /** The ceiling of one request's cost and reservation: USD 1,000,000 (10^15 nano-USD). */
  public static final double MAX_REQUEST_USD = 1_000_000.0;
  public static final long MAX_REQUEST_NANOS = 1_000_000_000_000_000L;

  private final Map<String, Pricing> pricing;

  public CostCalculator(Map<String, Pricing> pricing) {
    this.pricing = Map.copyOf(pricing);
  }

  public boolean knows(String model) {
    return model != null && pricing.containsKey(model);
  }

  /**
   * @param promptTokens all prompt tokens, including cached and cache-write ones
   * @return the cost in USD, within {@code 0..}{@link #MAX_REQUEST_USD}
   */
  public double cost(String model, long promptTokens, long cachedTokens, long cacheWriteTokens, long completionTokens) {
    Pricing p = model == null ? null : pricing.get(model);
    if (p == null) return 0.0;
    long prompt = tokens(promptTokens);
    long cached = tokens(cachedTokens);
    long cacheWrite = tokens(cacheWriteTokens);
    long uncached = Math.max(0, prompt - cached - cacheWrite);
    double usd = (uncached * p.input() + cached * p.cachedInput() + cacheWrite * p.cacheWrite()
        + tokens(completionTokens) * p.output()) / 1_000_000.0;
    return Math.min(usd, MAX_REQUEST_USD);
  }

  /** The most a request can cost: every prompt token uncached and every allowed output token produced. */
  public double worstCase(String model, long promptTokens, long maxOutputTokens) {
    return cost(model, promptTokens, 0, 0, maxOutputTokens);
  }

  /** A token count clamped to {@code 0..}{@link #MAX_TOKENS}. */
  public static long tokens(long count) {
    return Math.max(0, Math.min(count, MAX_TOKENS));
  }

  /**
   * USD to nano-USD, clamped to {@code 0..}{@link #MAX_REQUEST_NANOS} (NaN counts as the ceiling, so a reservation is
   * never made smaller by it): the one conversion for budgets and the spend ledger.
   */
  public static long nanos(double usd) {
    if (Double.isNaN(usd) || usd >= MAX_REQUEST_USD) return MAX_REQUEST_NANOS;
    if (usd <= 0) return 0;
    return Math.round(usd * 1e9);
  }
}
