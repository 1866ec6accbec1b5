package dev.sluice.usage;

import dev.sluice.config.Pricing;
import java.util.HashMap;
import java.util.Map;

/**
 * List prices (USD per 1M tokens) shipped for common OpenAI and Anthropic models, so costs are non-zero out of the
 * box. The {@code pricing} section of the config overrides any entry; check them against your invoices.
 */
public final class DefaultPricing {
  private DefaultPricing() {}

  private static Pricing p(double input, double cachedInput, double cacheWrite, double output) {
    return new Pricing(input, cachedInput, cacheWrite, output);
  }

  public static Map<String, Pricing> table() {
    Map<String, Pricing> t = new HashMap<>();
    t.put("gpt-4o-mini", p(0.15, 0.075, 0.15, 0.60));
    t.put("gpt-4o", p(2.50, 1.25, 2.50, 10.00));
    t.put("gpt-4.1", p(2.00, 0.50, 2.00, 8.00));
    t.put("gpt-4.1-mini", p(0.40, 0.10, 0.40, 1.60));
    t.put("gpt-4.1-nano", p(0.10, 0.025, 0.10, 0.40));
    t.put("gpt-5", p(1.25, 0.125, 1.25, 10.00));
    t.put("gpt-5-mini", p(0.25, 0.025, 0.25, 2.00));
    t.put("gpt-5-nano", p(0.05, 0.005, 0.05, 0.40));
    t.put("o3", p(2.00, 0.50, 2.00, 8.00));
    t.put("o4-mini", p(1.10, 0.275, 1.10, 4.40));
    t.put("text-embedding-3-small", p(0.02, 0.02, 0.02, 0));
    t.put("text-embedding-3-large", p(0.13, 0.13, 0.13, 0));
    t.put("claude-3-5-haiku-latest", p(0.80, 0.08, 1.00, 4.00));
    t.put("claude-3-5-sonnet-latest", p(3.00, 0.30, 3.75, 15.00));
    t.put("claude-sonnet-4-0", p(3.00, 0.30, 3.75, 15.00));
    t.put("claude-opus-4-0", p(15.00, 1.50, 18.75, 75.00));
    return t;
  }

  /** The shipped table with the configured entries on top. */
  public static Map<String, Pricing> with(Map<String, Pricing> configured) {
    Map<String, Pricing> merged = table();
    merged.putAll(configured);
    return merged;
  }
}
