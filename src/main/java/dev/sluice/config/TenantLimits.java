package dev.sluice.config;

/**
 * Per-tenant rate limits; a null field means unlimited. Buckets refill at the per-minute rate and hold up to their
 * burst (default: the per-minute limit), so {@code requests-per-minute: 60, request-burst: 10} admits 10 at once,
 * then one per second.
 */
public record TenantLimits(Integer requestsPerMinute, Integer tokensPerMinute, Integer maxInFlight, Integer requestBurst,
                           Integer tokenBurst) {
  public static final TenantLimits UNLIMITED = new TenantLimits(null, null, null);

  public TenantLimits {
    if (requestsPerMinute != null) Checks.positive("requests-per-minute", requestsPerMinute, 0);
    if (tokensPerMinute != null) Checks.positive("tokens-per-minute", tokensPerMinute, 0);
    if (maxInFlight != null) Checks.positive("max-in-flight", maxInFlight, 0);
    if (requestBurst != null) {
      Checks.positive("request-burst", requestBurst, 0);
      if (requestsPerMinute == null) throw new IllegalArgumentException("request-burst: set without requests-per-minute (expected: both)");
    }
    if (tokenBurst != null) {
      Checks.positive("token-burst", tokenBurst, 0);
      if (tokensPerMinute == null) throw new IllegalArgumentException("token-burst: set without tokens-per-minute (expected: both)");
    }
  }

  public TenantLimits(Integer requestsPerMinute, Integer tokensPerMinute, Integer maxInFlight) {
    this(requestsPerMinute, tokensPerMinute, maxInFlight, null, null);
  }

  /** Bucket capacity for requests: the burst, else the per-minute limit; 0 when unlimited. */
  public long requestCapacity() {
    return requestBurst != null ? requestBurst : requestsPerMinute == null ? 0 : requestsPerMinute;
  }

  public long tokenCapacity() {
    return tokenBurst != null ? tokenBurst : tokensPerMinute == null ? 0 : tokensPerMinute;
  }
}
