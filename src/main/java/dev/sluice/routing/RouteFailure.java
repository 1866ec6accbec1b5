package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.upstream.UpstreamFailure;
import java.util.List;

/**
 * Why a request could not be routed or served: unknown alias, alias not allowed for the tenant, or every attempt
 * failed (the last attempt's {@link UpstreamFailure} is kept, with how many attempts were made).
 */
public final class RouteFailure extends RuntimeException {
  public enum Kind { MODEL_NOT_FOUND, MODEL_NOT_ALLOWED, UPSTREAM, UNAVAILABLE }

  private final Kind kind;
  private final String alias;
  private final UpstreamFailure upstream;
  private final String provider;
  private final int attempts;
  private final List<Deployment> unbilled;
  private final List<AttemptLoop.FailedAttempt> upstreamErrors;
  private long retryAfterMillis = -1;

  private RouteFailure(Kind kind, String alias, UpstreamFailure upstream, String provider, int attempts,
                       List<Deployment> unbilled, List<AttemptLoop.FailedAttempt> upstreamErrors) {
    super(kind + " " + alias, null, false, false);
    this.upstreamErrors = upstreamErrors;
    this.kind = kind;
    this.alias = alias;
    this.upstream = upstream;
    this.provider = provider;
    this.attempts = attempts;
    this.unbilled = unbilled;
  }

  public static RouteFailure notFound(String alias) {
    return new RouteFailure(Kind.MODEL_NOT_FOUND, alias, null, null, 0, List.of(), List.of());
  }

  public static RouteFailure notAllowed(String alias) {
    return new RouteFailure(Kind.MODEL_NOT_ALLOWED, alias, null, null, 0, List.of(), List.of());
  }

  /**
   * @param unbilled attempts the provider may bill although they failed (the tenant is not charged for them)
   * @param upstreamErrors each failed attempt's {@link UpstreamFailure#cause()}, in order
   */
  public static RouteFailure upstream(String alias, UpstreamFailure last, String provider, int attempts,
                                      List<Deployment> unbilled, List<AttemptLoop.FailedAttempt> upstreamErrors) {
    return new RouteFailure(Kind.UPSTREAM, alias, last, provider, attempts, unbilled, upstreamErrors);
  }

  /** Every deployment's breaker is open or the deployment is resting: nothing was tried. */
  public static RouteFailure unavailable(String alias, long retryAfterMillis) {
    RouteFailure failure = new RouteFailure(Kind.UNAVAILABLE, alias, null, null, 0, List.of(), List.of());
    failure.retryAfterMillis = retryAfterMillis;
    return failure;
  }

  /** For {@link Kind#UNAVAILABLE}: when the first deployment may be tried again. */
  public long retryAfterMillis() {
    return retryAfterMillis;
  }

  public Kind kind() {
    return kind;
  }

  public String alias() {
    return alias;
  }

  /** The last attempt's failure for {@link Kind#UPSTREAM}, else {@code null}. */
  public UpstreamFailure upstream() {
    return upstream;
  }

  /** The provider of the last attempt, or {@code null}. */
  public String provider() {
    return provider;
  }

  public int attempts() {
    return attempts;
  }

  /** Failed attempts the provider may still bill ({@link OutcomeClassifier#mayBeBilled}). */
  public List<Deployment> unbilled() {
    return unbilled;
  }

  /** Why each attempt failed ({@link UpstreamFailure#cause()}), in order; empty when nothing was tried. */
  public List<AttemptLoop.FailedAttempt> upstreamErrors() {
    return upstreamErrors;
  }
}
