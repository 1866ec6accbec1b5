package dev.sluice.config;

/** USD per one million tokens for one upstream model, each at most {@link #MAX_USD_PER_MILLION}. */
public record Pricing(Double input, Double cachedInput, Double cacheWrite, Double output) {
  /** USD 1 per token: far above any list price, low enough that a request's cost stays a finite number. */
  public static final double MAX_USD_PER_MILLION = 1_000_000;

  public Pricing {
    input = Checks.nonNegativeMoney("input", input == null ? 0.0 : input, MAX_USD_PER_MILLION);
    cachedInput = Checks.nonNegativeMoney("cached-input", cachedInput == null ? input : cachedInput, MAX_USD_PER_MILLION);
    cacheWrite = Checks.nonNegativeMoney("cache-write", cacheWrite == null ? input : cacheWrite, MAX_USD_PER_MILLION);
    output = Checks.nonNegativeMoney("output", output == null ? 0.0 : output, MAX_USD_PER_MILLION);
  }
}
