package dev.sluice.config;

/** Per-tenant rate limits; a null field means unlimited. */
public record TenantLimits(Integer requestsPerMinute, Integer tokensPerMinute, Integer maxInFlight) {
  public static final TenantLimits UNLIMITED = new TenantLimits(null, null, null);

  public TenantLimits {
    if (requestsPerMinute != null) Checks.positive("requests-per-minute", requestsPerMinute, 0);
    if (tokensPerMinute != null) Checks.positive("tokens-per-minute", tokensPerMinute, 0);
    if (maxInFlight != null) Checks.positive("max-in-flight", maxInFlight, 0);
  }
}
