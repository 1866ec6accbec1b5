package dev.sluice.config;

/**
 * One place an alias can be served: a provider and its model name. Deployments are tried by ascending
 * {@code priority} (default: their position in the list); those sharing a priority are load-balanced by
 * {@code weight}.
 *
 * @param timeouts this deployment's own timeout set (e.g. a slow reasoning model), replacing its provider's whole set
 *     (fields it leaves out take the global defaults); {@code null} keeps the provider's
 * @param maxTokensField the name this deployment wants for the output limit ({@code max_tokens} or
 *     {@code max_completion_tokens}); the request's value is renamed when it uses the other one; {@code null} keeps it
 */
public record Deployment(String provider, String model, Integer weight, Integer priority, String maxTokensField,
                         ProviderTimeouts timeouts) {
  public Deployment {
    Checks.required("provider", provider);
    Checks.required("model", model);
    weight = Checks.positive("weight", weight, 1);
    if (priority != null) Checks.nonNegative("priority", priority, 0);
    if (maxTokensField != null && !maxTokensField.equals("max_tokens") && !maxTokensField.equals("max_completion_tokens")) {
      throw new IllegalArgumentException("max-tokens-field: " + maxTokensField + " (expected: max_tokens | max_completion_tokens)");
    }
  }

  public Deployment(String provider, String model, Integer weight) {
    this(provider, model, weight, null, null, null);
  }
}
