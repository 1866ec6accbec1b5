package dev.sluice.routing;

import dev.sluice.upstream.UpstreamFailure;
import io.vertx.core.json.JsonObject;

/**
 * The one classification table of failed attempts: what a failed attempt means for the request, the deployment and its
 * breaker. Only {@link Outcome#RETRYABLE} counts as a breaker failure.
 *
 * <pre>
 * provider 429 (rate limit)                 → RATE_LIMITED  cool the deployment for its retry-after, try another
 * 429 insufficient_quota, 401, 403          → DISABLED      skip the deployment for minutes, try another; 503 if none
 * 5xx, 529, connect/DNS, timeouts, malformed → RETRYABLE    breaker failure; retry with backoff or fall back
 * 400, 404, 413, 422 (and other 4xx)        → CLIENT_ERROR  pass through sanitised, no retry, no breaker count
 * client went away                          → CANCELLED     stop
 * </pre>
 */
public final class OutcomeClassifier {
  public enum Outcome { RATE_LIMITED, DISABLED, RETRYABLE, CLIENT_ERROR, CANCELLED }

  private OutcomeClassifier() {}

  public static Outcome classify(UpstreamFailure failure) {
    return switch (failure.kind()) {
      case CANCELLED -> Outcome.CANCELLED;
      case HTTP_STATUS -> byStatus(failure.status(), failure.upstreamError());
      case POOL_FULL, CONNECT, HEADERS_TIMEOUT, FIRST_TOKEN_TIMEOUT, IDLE_TIMEOUT, TOTAL_TIMEOUT, BAD_RESPONSE,
           STREAM_ERROR, STREAM_EOF -> Outcome.RETRYABLE;
    };
  }

  private static Outcome byStatus(int status, JsonObject error) {
    if (status == 429) {
      String code = error == null ? null : error.getString("code");
      String type = error == null ? null : error.getString("type");
      boolean money = "insufficient_quota".equals(code) || "insufficient_quota".equals(type)
          || "credit_balance_exhausted".equals(code) || "enforced_spend_limit_reached".equals(code);
      return money ? Outcome.DISABLED : Outcome.RATE_LIMITED;
    }
    if (status == 401 || status == 403) return Outcome.DISABLED;
    if (status == 408 || status >= 500) return Outcome.RETRYABLE;
    return Outcome.CLIENT_ERROR;
  }

  /**
   * Whether the provider may bill a failed attempt: it accepted the request and we abandoned it (a timeout after
   * sending, or a stream that broke or carried an error event before the commit point). Connect errors, a full pool
   * and non-2xx answers were not processed; a client that went away is the tenant's own cancel.
   */
  public static boolean mayBeBilled(UpstreamFailure failure) {
    return failure.isTimeout() || failure.kind() == UpstreamFailure.Kind.STREAM_ERROR
        || failure.kind() == UpstreamFailure.Kind.STREAM_EOF;
  }

  /** A short bounded reason for metrics and the usage event. */
  public static String reason(UpstreamFailure failure) {
    return switch (classify(failure)) {
      case RATE_LIMITED -> "rate_limited";
      case DISABLED -> "provider_auth_or_quota";
      case CLIENT_ERROR -> "client_error";
      case CANCELLED -> "cancelled";
      case RETRYABLE -> failure.isTimeout() ? "timeout"
          : failure.kind() == UpstreamFailure.Kind.CONNECT ? "connect"
          : failure.kind() == UpstreamFailure.Kind.HTTP_STATUS ? "server_error" : "bad_response";
    };
  }
}
