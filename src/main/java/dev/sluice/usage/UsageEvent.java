package dev.sluice.usage;

import io.vertx.core.json.JsonObject;

/**
 * What one request did, published exactly once after it ended. Holds no secrets: tenant and key ids only.
 *
 * @param requestId the gateway's own id (the ledger's once-only key)
 * @param clientRequestId the client's {@code x-client-request-id} / {@code x-request-id} when sane, else null; never a key
 * @param outcome {@code ok | client_cancel | partial_upstream_failure | upstream_error | rejected}
 * @param cache {@code HIT | MISS | BYPASS | REFRESH | DISABLED}
 * @param rateLimit which limit refused the request ({@code requests | tokens | concurrency | budget | unavailable}), or
 *     {@code null}
 * @param fallbacks the fallbacks taken before the commit point, as {@code from>to:reason} joined by commas, or
 *     {@code null}
 * @param priced whether the upstream model has a price (an unpriced model costs 0 and is counted)
 * @param tokensSaved for a cache hit, the tokens the original answer used (not billed again)
 * @param usageSource {@code provider} when the provider reported usage, {@code counted} when we counted, or
 *     {@code none}
 * @param unbilled failed attempts the provider may bill although their output was abandoned (timeouts, broken
 *     streams before the commit point), with an estimate of that cost; never charged to the tenant
 * @param upstreamErrors why each failed upstream attempt failed, in order, from a fixed vocabulary ({@code dns},
 *     {@code connect_refused}, {@code headers_timeout}, {@code provider_429_rate_limit_exceeded}, {@code stream_cut},
 *     …); includes the failure that interrupted a stream after the commit point; empty when none failed
 */
public record UsageEvent(long timestampMillis, String requestId, String clientRequestId, String tenant, String keyId, String endpoint,
                         String alias, String provider, String upstreamModel, boolean stream, int status,
                         String outcome, String errorCode, String rateLimit, int attempts, String fallbacks, String cache, long tokensSaved, long promptTokens,
                         long completionTokens, long cachedTokens, long reasoningTokens, String usageSource,
                         boolean priced, double costUsd, double latencyMs, double ttftMs, double overheadMs,
                         java.util.List<UnbilledAttempt> unbilled, java.util.List<UpstreamError> upstreamErrors) {
  public static final String ADDRESS = "sluice.usage";

  /**
   * One abandoned attempt the provider may bill. {@code costUsd} is a lower bound: the prompt at the deployment's input
   * price (what it generated before we gave up is unknown); 0 for an unpriced model.
   */
  public record UnbilledAttempt(String provider, String upstreamModel, double costUsd) {}

  /** One failed upstream attempt: the provider tried and the bounded cause of its failure. */
  public record UpstreamError(String provider, String cause) {}

  /** The failed attempts' causes in order, comma-separated (the access log's and error header's form), or null. */
  public String upstreamErrorList() {
    if (upstreamErrors.isEmpty()) return null;
    StringBuilder sb = new StringBuilder();
    for (UpstreamError e : upstreamErrors) {
      if (sb.length() > 0) sb.append(',');
      sb.append(e.cause());
    }
    return sb.toString();
  }

  /** The sum of {@link #unbilled}'s estimates. */
  public double unbilledCostUsd() {
    double sum = 0;
    for (UnbilledAttempt a : unbilled) sum += a.costUsd();
    return sum;
  }

  /** The access-log form; absent values are omitted. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("ts", timestampMillis)
        .put("request_id", requestId)
        .put("client_request_id", clientRequestId)
        .put("tenant", tenant)
        .put("key_id", keyId)
        .put("endpoint", endpoint)
        .put("model", alias)
        .put("provider", provider)
        .put("upstream_model", upstreamModel)
        .put("stream", stream)
        .put("status", status)
        .put("outcome", outcome)
        .put("error_code", errorCode)
        .put("rate_limit", rateLimit)
        .put("attempts", attempts)
        .put("fallbacks", fallbacks)
        .put("cache", cache)
        .put("tokens_saved", tokensSaved)
        .put("prompt_tokens", promptTokens)
        .put("completion_tokens", completionTokens)
        .put("cached_tokens", cachedTokens)
        .put("reasoning_tokens", reasoningTokens)
        .put("usage_source", usageSource)
        .put("cost_usd", usd(costUsd))
        .put("latency_ms", round(latencyMs))
        .put("ttft_ms", ttftMs < 0 ? null : round(ttftMs))
        .put("overhead_ms", round(overheadMs));
    if (!unbilled.isEmpty()) {
      json.put("unbilled_attempts", unbilled.size()).put("unbilled_cost_usd", usd(unbilledCostUsd()));
    }
    if (!upstreamErrors.isEmpty()) json.put("upstream_error", upstreamErrorList());
    json.getMap().values().removeIf(v -> v == null);
    return json;
  }

  /**
   * USD to 12 decimal places, as a decimal rather than a double: {@code 0.0000072}, not {@code 7.2000000000000005E-6}
   * (the access log writes it in plain notation).
   */
  static java.math.BigDecimal usd(double value) {
    if (value == 0 || !Double.isFinite(value)) return java.math.BigDecimal.ZERO;
    java.math.BigDecimal rounded = java.math.BigDecimal.valueOf(value).setScale(12, java.math.RoundingMode.HALF_EVEN);
    return rounded.signum() == 0 ? java.math.BigDecimal.ZERO : rounded.stripTrailingZeros();
  }

  private static double round(double ms) {
    return Math.round(ms * 1000) / 1000.0;
  }
}
