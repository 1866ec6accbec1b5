package dev.sluice.config;

import java.util.List;

/** A client-visible model alias and the ordered deployments that serve it. */
public record ModelRoute(List<Deployment> deployments, Integer contextWindow, Integer maxOutputTokens) {
  public ModelRoute {
    if (deployments == null || deployments.isEmpty()) {
      throw new IllegalArgumentException("deployments: empty (expected: at least one {provider, model})");
    }
    deployments = List.copyOf(deployments);
    contextWindow = Checks.positive("context-window", contextWindow, 128_000);
    maxOutputTokens = Checks.positive("max-output-tokens", maxOutputTokens, 4096);
    if (maxOutputTokens > contextWindow) {
      throw new IllegalArgumentException("max-output-tokens: " + maxOutputTokens + " (expected: <= context-window " + contextWindow + ")");
    }
  }
}
