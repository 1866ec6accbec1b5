package dev.sluice.config;

/** USD per one million tokens for one upstream model. */
public record Pricing(Double input, Double cachedInput, Double cacheWrite, Double output) {
  public Pricing {
    input = Checks.nonNegativeMoney("input", input == null ? 0.0 : input);
    cachedInput = Checks.nonNegativeMoney("cached-input", cachedInput == null ? input : cachedInput);
    cacheWrite = Checks.nonNegativeMoney("cache-write", cacheWrite == null ? input : cacheWrite);
    output = Checks.nonNegativeMoney("output", output == null ? 0.0 : output);
  }
}
