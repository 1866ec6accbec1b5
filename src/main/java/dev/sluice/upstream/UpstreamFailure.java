package dev.sluice.upstream;

import io.vertx.core.json.JsonObject;

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

  private final Kind kind;
  private final int status;
  private final JsonObject upstreamError;
  private final long retryAfterMillis;

  private UpstreamFailure(Kind kind, int status, JsonObject upstreamError, long retryAfterMillis, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.status = status;
    this.upstreamError = upstreamError;
    this.retryAfterMillis = retryAfterMillis;
  }

  public static UpstreamFailure of(Kind kind, String message) {
    return new UpstreamFailure(kind, 0, null, -1, message);
  }

  public static UpstreamFailure status(int status, JsonObject upstreamError, long retryAfterMillis) {
    return new UpstreamFailure(Kind.HTTP_STATUS, status, upstreamError, retryAfterMillis, "upstream status " + status);
  }

  public static UpstreamFailure streamError(JsonObject upstreamError) {
    return new UpstreamFailure(Kind.STREAM_ERROR, 0, upstreamError, -1, "upstream error event");
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
}
