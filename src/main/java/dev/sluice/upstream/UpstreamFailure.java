package dev.sluice.upstream;

import io.vertx.core.json.JsonObject;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLException;

/**
 * Why one attempt to a provider failed. Stackless: failures are expected traffic, not bugs. {@code upstreamError}
 * holds the provider's error object, if any, for the caller to sanitise; it is never shown raw.
 */
public final class UpstreamFailure extends RuntimeException {
  public enum Kind {
    /** Connection refused, DNS failure, TLS failure, connect timeout: the provider never saw the request. */
    CONNECT,
    /** Our connection pool and its wait queue are full. */
    POOL_FULL,
    HEADERS_TIMEOUT, FIRST_TOKEN_TIMEOUT, IDLE_TIMEOUT, TOTAL_TIMEOUT,
    /** The provider answered with a non-2xx status. */
    HTTP_STATUS,
    /** Unparseable or wrongly shaped payload. */
    BAD_RESPONSE,
    /** An in-band error event in a stream. */
    STREAM_ERROR,
    /** The stream ended without {@code [DONE]} or without a finish reason, or the connection dropped. */
    STREAM_EOF,
    /** Our side gave up: the client disconnected. */
    CANCELLED
  }

  /**
   * Provider error codes (or, without a code, error types) that may appear in a {@link #cause()}: a fixed list keeps the
   * cause a bounded metric label and keeps whatever else a provider puts in {@code code} out of logs and headers.
   */
  private static final Set<String> KNOWN_PROVIDER_CODES = Set.of(
      // OpenAI and Azure OpenAI
      "rate_limit_exceeded", "insufficient_quota", "invalid_api_key", "model_not_found", "context_length_exceeded",
      "server_error", "engine_overloaded", "billing_hard_limit_reached", "account_deactivated", "unsupported_country_region_territory",
      "content_filter", "deploymentnotfound", "unsupported_parameter", "invalid_value", "credit_balance_exhausted",
      "enforced_spend_limit_reached",
      // Anthropic error types
      "rate_limit_error", "overloaded_error", "authentication_error", "permission_error", "not_found_error", "api_error",
      "invalid_request_error", "request_too_large");

  private final Kind kind;
  private final int status;
  private final JsonObject upstreamError;
  private final long retryAfterMillis;
  /** For {@link Kind#CONNECT}: which part of connecting failed ({@code connect_refused}, {@code dns}, …). */
  private final String connectCause;

  private UpstreamFailure(Kind kind, int status, JsonObject upstreamError, long retryAfterMillis, String message,
                         String connectCause) {
    super(message, null, false, false);
    this.kind = kind;
    this.status = status;
    this.upstreamError = upstreamError;
    this.retryAfterMillis = retryAfterMillis;
    this.connectCause = connectCause;
  }

  public static UpstreamFailure of(Kind kind, String message) {
    return new UpstreamFailure(kind, 0, null, -1, message, null);
  }

  /**
   * A {@link Kind#CONNECT} failure classified by its exception: refused, DNS, TLS, connect timeout, or (for a connection
   * lost before any response) {@code connection_closed}. The exception's own message is never kept: it names the host.
   */
  public static UpstreamFailure connect(Throwable error) {
    String cause = connectCause(error);
    return new UpstreamFailure(Kind.CONNECT, 0, null, -1, "cannot reach the upstream: " + cause, cause);
  }

  private static String connectCause(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String name = t.getClass().getName();
      if (t instanceof UnknownHostException || name.contains("Dns")) return "dns";
      if (t instanceof SSLException || name.contains("Ssl") || name.contains("Tls")) return "tls";
      if (t instanceof SocketTimeoutException || name.endsWith("ConnectTimeoutException")) return "connect_timeout";
      if (t instanceof ConnectException) {
        String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
        return message.contains("refused") ? "connect_refused" : "connect_error";
      }
    }
    // An I/O error of an established connection (closed or reset before the response)
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.io.IOException || t.getClass().getName().endsWith("HttpClosedException")) return "connection_closed";
    }
    return "connect_error";
  }

  public static UpstreamFailure status(int status, JsonObject upstreamError, long retryAfterMillis) {
    return new UpstreamFailure(Kind.HTTP_STATUS, status, upstreamError, retryAfterMillis, "upstream status " + status, null);
  }

  public static UpstreamFailure streamError(JsonObject upstreamError) {
    return new UpstreamFailure(Kind.STREAM_ERROR, 0, upstreamError, -1, "upstream error event", null);
  }

  public Kind kind() {
    return kind;
  }

  /** The provider's HTTP status for {@link Kind#HTTP_STATUS}, else 0. */
  public int status() {
    return status;
  }

  public JsonObject upstreamError() {
    return upstreamError;
  }

  /** The provider's retry-after in milliseconds, or -1 when it sent none. */
  public long retryAfterMillis() {
    return retryAfterMillis;
  }

  public boolean isTimeout() {
    return kind == Kind.HEADERS_TIMEOUT || kind == Kind.FIRST_TOKEN_TIMEOUT || kind == Kind.IDLE_TIMEOUT
        || kind == Kind.TOTAL_TIMEOUT;
  }

  /**
   * Why this attempt failed, as one word of a fixed vocabulary safe for logs, headers and metric labels (never a host,
   * URL, key or provider text): {@code connect_refused, dns, tls, connect_timeout, connect_error, connection_closed,
   * pool_full, headers_timeout, first_token_timeout, idle_timeout, total_timeout, provider_<status>[_<code>],
   * stream_error[_<code>], stream_cut, bad_response, cancelled}, where {@code <code>} is the provider's error code (or
   * type) when it is a known one.
   */
  public String cause() {
    return switch (kind) {
      case CONNECT -> connectCause == null ? "connect_error" : connectCause;
      case POOL_FULL -> "pool_full";
      case HEADERS_TIMEOUT -> "headers_timeout";
      case FIRST_TOKEN_TIMEOUT -> "first_token_timeout";
      case IDLE_TIMEOUT -> "idle_timeout";
      case TOTAL_TIMEOUT -> "total_timeout";
      case HTTP_STATUS -> withCode("provider_" + (status >= 100 && status <= 599 ? Integer.toString(status) : "other"));
      case BAD_RESPONSE -> "bad_response";
      case STREAM_ERROR -> withCode("stream_error");
      case STREAM_EOF -> "stream_cut";
      case CANCELLED -> "cancelled";
    };
  }

  private String withCode(String prefix) {
    if (upstreamError == null) return prefix;
    String code = known(upstreamError.getValue("code"));
    if (code == null) code = known(upstreamError.getValue("type"));
    return code == null ? prefix : prefix + "_" + code;
  }

  private static String known(Object value) {
    if (!(value instanceof String s)) return null;
    String lower = s.toLowerCase(Locale.ROOT);
    return KNOWN_PROVIDER_CODES.contains(lower) ? lower : null;
  }
}
