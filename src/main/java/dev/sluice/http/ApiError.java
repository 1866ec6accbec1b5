package dev.sluice.http;

/**
 * A failure already expressed in the OpenAI error contract. Stackless; built only by
 * {@link ErrorResponder} and the request-validation code of this package.
 *
 * @param retryAfterMillis -1 for none; otherwise sent as {@code retry-after} (integer s, 1..60) and {@code retry-after-ms}
 * @param shouldRetry {@code null} to send nothing, else the {@code x-should-retry} value
 */
public record ApiError(int status, String type, String code, String param, String message, long retryAfterMillis,
                       Boolean shouldRetry) {

  public static ApiError invalidRequest(String code, String param, String message) {
    return new ApiError(400, "invalid_request_error", code, param, message, -1, false);
  }

  public Failure asFailure() {
    return new Failure(this);
  }

  /** Carries an {@link ApiError} through {@code RoutingContext.fail}. */
  public static final class Failure extends RuntimeException {
    private final ApiError error;

    Failure(ApiError error) {
      super(error.message(), null, false, false);
      this.error = error;
    }

    public ApiError error() {
      return error;
    }
  }
}
