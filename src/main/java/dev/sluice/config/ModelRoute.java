package dev.sluice.config;

import java.util.List;

/**
 * A client-visible model alias and the ordered deployments that serve it.
 *
 * @param maxOutputTokens the most one choice may ask for, when the operator set it; null when not set (then a request
 *     may ask up to the context window, which the context guard enforces together with the prompt)
 */
public record ModelRoute(List<Deployment> deployments, Integer contextWindow, Integer maxOutputTokens) {
  /** What a request that sets no {@code max_tokens} is assumed to produce when the alias does not say. */
  public static final int DEFAULT_OUTPUT_TOKENS = 4096;

  public ModelRoute {
    if (deployments == null || deployments.isEmpty()) {
      throw new IllegalArgumentException("deployments: empty (expected: at least one {provider, model})");
    }
    deployments = List.copyOf(deployments);
    contextWindow = Checks.positive("context-window", contextWindow, 128_000);
    if (maxOutputTokens != null) {
      Checks.positive("max-output-tokens", maxOutputTokens, DEFAULT_OUTPUT_TOKENS);
      if (maxOutputTokens > contextWindow) {
        throw new IllegalArgumentException("max-output-tokens: " + maxOutputTokens + " (expected: <= context-window " + contextWindow + ")");
      }
    }
  }

  /** The output reserved for a request that asks no {@code max_tokens}: the alias's ceiling, or 4096 (at most the window). */
  public int defaultOutputTokens() {
    return maxOutputTokens != null ? maxOutputTokens : Math.min(DEFAULT_OUTPUT_TOKENS, contextWindow);
  }

  /** The most one choice may ask for: the configured {@code max-output-tokens}, else the whole context window. */
  public int outputCeiling() {
    return maxOutputTokens != null ? maxOutputTokens : contextWindow;
  }
}
