package dev.sluice.ratelimit;

/**
 * The limiter's answer. Limits of 0 mean "not limited". {@code resetMillis} is the time until that bucket is full
 * again (OpenAI's meaning of {@code x-ratelimit-reset-*}); {@code retryAfterMillis} the wait before this request
 * could pass. {@code degraded} marks an answer from the local fallback while Redis is unavailable.
 */
public record RateLimitDecision(Denial denial, long requestLimit, long requestsRemaining, long requestsResetMillis,
                                long tokenLimit, long tokensRemaining, long tokensResetMillis, long retryAfterMillis,
                                boolean degraded) {
  public enum Denial { NONE, REQUESTS, TOKENS, CONCURRENCY, LARGER_THAN_BUCKET, LIMITER_UNAVAILABLE }

  public static final RateLimitDecision UNLIMITED = new RateLimitDecision(Denial.NONE, 0, 0, 0, 0, 0, 0, 0, false);

  public boolean allowed() {
    return denial == Denial.NONE;
  }

  RateLimitDecision asDegraded() {
    return new RateLimitDecision(denial, requestLimit, requestsRemaining, requestsResetMillis, tokenLimit,
        tokensRemaining, tokensResetMillis, retryAfterMillis, true);
  }
}
