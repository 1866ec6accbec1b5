package dev.sluice.http;

import dev.sluice.json.JsonProblem;
import dev.sluice.routing.RouteFailure;
import dev.sluice.upstream.UpstreamFailure;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become the OpenAI error envelope {@code {"error":{message,type,param,code}}} with the
 * right status and retry headers. Provider text is shown only for client errors (400/404/413/422), scrubbed of
 * anything key-shaped; provider auth and quota failures become a generic 503.
 */
public final class ErrorResponder {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponder.class);
  /** One stack trace per exception class per minute: a request that trips a bug must not flood the logs. */
  private static final dev.sluice.usage.RateLimitedLog ERRORS =
      new dev.sluice.usage.RateLimitedLog(LOG, 60_000, System::currentTimeMillis);
  private static final Pattern KEY_SHAPED = Pattern.compile(
      "(?i)(sk|pk|rk|key|bearer|api[-_ ]?key)[-_: =]*[A-Za-z0-9*._~+/-]{12,}");

  private ErrorResponder() {}

  /** Maps any failure to its envelope; unknown throwables are our bugs: logged with stack, shown generically. */
  public static ApiError toApiError(Throwable failure) {
    if (failure instanceof ApiError.Failure f) return f.error();
    if (failure instanceof JsonProblem p) return ApiError.invalidRequest("invalid_json", null, p.getMessage());
    if (failure instanceof RouteFailure r) return fromRoute(r);
    if (failure instanceof UpstreamFailure u) return fromUpstream(u, "the model");
    ERRORS.error(failure.getClass().getName(), "unexpected failure while handling a request", failure);
    return new ApiError(500, "server_error", "internal_error", null,
        "The gateway had an internal error while processing your request.", -1, null);
  }

  private static ApiError fromRoute(RouteFailure r) {
    return switch (r.kind()) {
      case MODEL_NOT_FOUND -> new ApiError(404, "invalid_request_error", "model_not_found", "model",
          "The model `" + printable(r.alias()) + "` does not exist or you do not have access to it.", -1, false);
      case MODEL_NOT_ALLOWED -> new ApiError(403, "invalid_request_error", "model_not_allowed", "model",
          "Your key is not allowed to use the model `" + printable(r.alias()) + "`.", -1, false);
      case UPSTREAM -> fromUpstream(r.upstream(), "`" + printable(r.alias()) + "`");
      case UNAVAILABLE -> new ApiError(503, "server_error", "upstream_unavailable", null,
          "Every upstream deployment for `" + printable(r.alias()) + "` is unavailable; please retry later.",
          r.retryAfterMillis(), null);
    };
  }

  private static ApiError fromUpstream(UpstreamFailure u, String model) {
    return switch (u.kind()) {
      case POOL_FULL -> new ApiError(503, "server_error", "overloaded",
          null, "The gateway is overloaded for " + model + "; please retry shortly.", 1000, null);
      case CONNECT -> new ApiError(503, "server_error", "upstream_unavailable", null,
          "The upstream provider for " + model + " is unavailable.", 1000, null);
      case HEADERS_TIMEOUT, FIRST_TOKEN_TIMEOUT, IDLE_TIMEOUT, TOTAL_TIMEOUT -> new ApiError(504, "server_error",
          "upstream_timeout", null, "The upstream provider for " + model + " did not answer in time.", -1, null);
      case BAD_RESPONSE, STREAM_ERROR, STREAM_EOF -> new ApiError(502, "server_error", "upstream_bad_response", null,
          "The upstream provider for " + model + " returned an invalid response.", -1, null);
      case CANCELLED -> new ApiError(499, "invalid_request_error", "client_closed_request", null,
          "The client closed the request.", -1, false);
      case HTTP_STATUS -> fromUpstreamStatus(u, model);
    };
  }

  private static ApiError fromUpstreamStatus(UpstreamFailure u, String model) {
    int status = u.status();
    JsonObject error = u.upstreamError();
    switch (status) {
      case 400, 404, 413, 422 -> {
        String message = error == null || error.getString("message") == null
            ? "The upstream provider rejected the request (HTTP " + status + ")." : scrub(error.getString("message"));
        String type = error == null || error.getString("type") == null ? "invalid_request_error" : scrub(error.getString("type"));
        return new ApiError(status, type, error == null ? null : scrubOrNull(error.getString("code")),
            error == null ? null : scrubOrNull(error.getString("param")), message, -1, false);
      }
      case 401, 403 -> {
        return new ApiError(503, "server_error", "upstream_unavailable", null,
            "The upstream provider for " + model + " is unavailable.", 1000, null);
      }
      case 429 -> {
        boolean quota = error != null && "insufficient_quota".equals(error.getString("code"));
        if (quota) {
          return new ApiError(503, "server_error", "upstream_unavailable", null,
              "The upstream provider for " + model + " is unavailable.", 1000, null);
        }
        return new ApiError(429, "requests", "upstream_rate_limited", null,
            "The upstream provider for " + model + " is rate limiting requests; please retry shortly.",
            u.retryAfterMillis() > 0 ? u.retryAfterMillis() : 1000, null);
      }
      case 408 -> {
        return new ApiError(504, "server_error", "upstream_timeout", null,
            "The upstream provider for " + model + " did not answer in time.", -1, null);
      }
      default -> {
        if (status >= 500) {
          return new ApiError(503, "server_error", "upstream_unavailable", null,
              "The upstream provider for " + model + " failed (HTTP " + status + ").",
              u.retryAfterMillis() > 0 ? u.retryAfterMillis() : 1000, null);
        }
        return new ApiError(502, "server_error", "upstream_bad_response", null,
            "The upstream provider for " + model + " returned an unexpected status (HTTP " + status + ").", -1, null);
      }
    }
  }

  /** Writes the envelope unless the response has started; a started stream is ended by the relay instead. */
  public static void write(HttpServerResponse response, ApiError error) {
    if (response.headWritten() || response.closed()) return;
    response.setStatusCode(error.status());
    if (error.status() == 499) response.setStatusMessage("Client Closed Request");
    response.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (error.retryAfterMillis() >= 0) {
      long ms = Math.min(60_000, Math.max(1, error.retryAfterMillis()));
      response.putHeader("retry-after", Long.toString(Math.max(1, (ms + 999) / 1000)));
      response.putHeader("retry-after-ms", Long.toString(ms));
    }
    if (error.shouldRetry() != null) response.putHeader("x-should-retry", error.shouldRetry().toString());
    response.end(envelope(error).toBuffer());
  }

  public static JsonObject envelope(ApiError error) {
    return new JsonObject().put("error", new JsonObject()
        .put("message", error.message())
        .put("type", error.type())
        .put("param", error.param())
        .put("code", error.code()));
  }

  static String scrub(String text) {
    return text == null ? null : KEY_SHAPED.matcher(text).replaceAll("[redacted]");
  }

  private static String scrubOrNull(String text) {
    return text == null ? null : scrub(text);
  }

  /** Aliases are client input echoed back: keep them short and printable. */
  private static String printable(String s) {
    if (s == null) return "";
    String cut = s.length() > 128 ? s.substring(0, 128) + "…" : s;
    return cut.replaceAll("[\\p{Cntrl}`]", "?");
  }
}
