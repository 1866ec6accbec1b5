package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.upstream.Provider;
import dev.sluice.upstream.UpstreamFailure;
import dev.sluice.upstream.UpstreamRequest;
import io.vertx.core.Future;
import java.util.function.Function;

/**
 * Runs the attempts of one request up to the commit point. This version makes a single attempt on the first
 * deployment; retries, fallback, breakers and the retry budget extend this class without changing its contract:
 * it completes with the {@link Delivery} to stream, or fails with a {@link RouteFailure}.
 */
public final class AttemptLoop {
  /**
   * @param providers provider name → this event loop's provider instance for the request's config snapshot
   * @param requestFor builds the attempt's request for a deployment (the upstream model name differs per deployment)
   */
  public Future<Delivery> execute(Route route, Function<String, Provider> providers,
                                  Function<Deployment, UpstreamRequest> requestFor) {
    Deployment deployment = route.deployments().get(0);
    Provider provider = providers.apply(deployment.provider());
    return provider.send(requestFor.apply(deployment)).transform(ar -> {
      if (ar.succeeded()) return Future.succeededFuture(new Delivery(ar.result(), deployment, 1));
      Throwable cause = ar.cause();
      UpstreamFailure failure = cause instanceof UpstreamFailure u ? u
          : UpstreamFailure.of(UpstreamFailure.Kind.CONNECT, cause.getClass().getSimpleName());
      return Future.failedFuture(RouteFailure.upstream(route.alias(), failure, deployment.provider(), 1));
    });
  }
}
