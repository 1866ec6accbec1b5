package dev.sluice.config;

/** One place an alias can be served: a provider and its model name, with a weight among equals. */
public record Deployment(String provider, String model, Integer weight) {
  public Deployment {
    Checks.required("provider", provider);
    Checks.required("model", model);
    weight = Checks.positive("weight", weight, 1);
  }
}
