package dev.sluice.config;

import java.time.Duration;

/**
 * Attempts, backoff, breakers and cooldowns across an alias's deployments. The defaults are the common gateway
 * practice: a few attempts with full-jitter backoff, a failure-rate breaker over a short call window.
 *
 * @param maxAttempts attempts per request across all deployments
 * @param deadline overall time for all attempts of one request up to its commit point
 * @param retryAfterMax an upstream {@code retry-after} is waited out only up to this; longer means move on or fail
 * @param retryBudgetPercent concurrent retries are capped at this share of in-flight requests …
 * @param retryBudgetMin … but at least this many
 * @param breakerWindow the last this-many calls of a deployment make its breaker's window
 * @param breakerMinCalls no failure rate is judged before this many calls are in the window
 * @param breakerFailureRate percent of failed calls in the window that opens the breaker
 * @param breakerOpen how long an open breaker refuses before going half-open
 * @param breakerProbes calls a half-open breaker lets through; their failure rate closes or reopens it
 * @param rateLimitCooldown how long a deployment rests after a 429 without retry-after
 * @param disableFor how long a deployment is skipped after a 401/403/insufficient_quota
 */
public record ResilienceConfig(Integer maxAttempts, Duration deadline, Duration backoffBase, Duration backoffCap,
                               Duration retryAfterMax, Integer retryBudgetPercent, Integer retryBudgetMin,
                               Integer breakerWindow, Integer breakerMinCalls, Integer breakerFailureRate,
                               Duration breakerOpen, Integer breakerProbes,
                               Duration rateLimitCooldown, Duration disableFor) {
  public static final ResilienceConfig DEFAULTS = new ResilienceConfig(null, null, null, null, null, null, null, null,
      null, null, null, null, null, null);

  public ResilienceConfig {
    maxAttempts = Checks.positive("max-attempts", maxAttempts, 3);
    if (maxAttempts > 10) throw new IllegalArgumentException("max-attempts: " + maxAttempts + " (expected: 1..10)");
    deadline = Checks.positive("deadline", deadline, Duration.ofMinutes(10));
    backoffBase = Checks.positive("backoff-base", backoffBase, Duration.ofMillis(100));
    backoffCap = Checks.positive("backoff-cap", backoffCap, Duration.ofSeconds(2));
    retryAfterMax = Checks.positive("retry-after-max", retryAfterMax, Duration.ofSeconds(10));
    retryBudgetPercent = Checks.nonNegative("retry-budget-percent", retryBudgetPercent, 20);
    retryBudgetMin = Checks.nonNegative("retry-budget-min", retryBudgetMin, 3);
    breakerWindow = Checks.positive("breaker-window", breakerWindow, 20);
    breakerMinCalls = Checks.positive("breaker-min-calls", breakerMinCalls, 10);
    if (breakerMinCalls > breakerWindow) {
      throw new IllegalArgumentException("breaker-min-calls: " + breakerMinCalls + " (expected: at most breaker-window, "
          + breakerWindow + ")");
    }
    breakerFailureRate = Checks.positive("breaker-failure-rate", breakerFailureRate, 50);
    if (breakerFailureRate > 100) {
      throw new IllegalArgumentException("breaker-failure-rate: " + breakerFailureRate + " (expected: 1..100 percent)");
    }
    breakerOpen = Checks.positive("breaker-open", breakerOpen, Duration.ofSeconds(30));
    breakerProbes = Checks.positive("breaker-probes", breakerProbes, 3);
    rateLimitCooldown = Checks.positive("rate-limit-cooldown", rateLimitCooldown, Duration.ofSeconds(5));
    disableFor = Checks.positive("disable-for", disableFor, Duration.ofMinutes(5));
  }
}
