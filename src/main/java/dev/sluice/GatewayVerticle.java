package dev.sluice;

import dev.sluice.config.ServerConfig;
import dev.sluice.http.ApiRouter;
import dev.sluice.http.ClientLimits;
import dev.sluice.http.ConnectionGuard;
import dev.sluice.http.GatewayState;
import dev.sluice.http.Services;
import dev.sluice.http.ProviderSet;
import dev.sluice.usage.UsagePublisher;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Composition root of one event loop: its providers (and their connection pools), router and client listener.
 * Several instances share the listen port. {@link #stop()} drains in-flight requests for up to the shutdown grace.
 */
public final class GatewayVerticle extends VerticleBase {
  private final Supplier<GatewayState> state;
  private final AtomicInteger inFlight;
  private final BooleanSupplier ready;
  private final int instances;
  private final int port;
  private final Services services;
  private final ClientLimits limits;
  private HttpServer server;
  private ProviderSet providers;

  /** @param port the port to bind (may differ from config when an environment override or port 0 is used) */
  public GatewayVerticle(Supplier<GatewayState> state, AtomicInteger inFlight, BooleanSupplier ready, int instances, int port,
                         Services services, ClientLimits limits) {
    this.services = services;
    this.limits = limits;
    this.state = state;
    this.inFlight = inFlight;
    this.ready = ready;
    this.instances = instances;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    ServerConfig server = state.get().config().server();
    providers = new ProviderSet(vertx, instances, server.shutdownGrace().toMillis() + 600_000);
    ApiRouter api = new ApiRouter(vertx, state, providers, new UsagePublisher(vertx), inFlight, ready, services,
        limits);
    HttpServerOptions options = new HttpServerOptions()
        .setHost(server.host())
        .setPort(port)
        .setTcpNoDelay(true)
        .setMaxHeaderSize((int) server.maxHeaderSize().bytes())
        .setMaxInitialLineLength(8192)
        .setCompressionSupported(false)
        // HTTP/1.1 only: TLS and HTTP/2 end at the proxy or ingress in front. h2c would bypass the connection guard
        // and answer limit violations with stream resets instead of the error envelope.
        .setHttp2ClearTextEnabled(false);
    this.server = vertx.createHttpServer(options)
        .connectionHandler(connection -> ConnectionGuard.install(connection, state.get().config().server(), limits,
            options))
        .requestHandler(api.router())
        .invalidRequestHandler(ApiRouter::invalidRequest);
    return ListenFailure.named(this.server.listen(), server.host(), port);
  }

  /** The event loop this instance serves requests on (its Redis connections are opened there). */
  public io.vertx.core.Context eventLoop() {
    return context;
  }

  public int actualPort() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    long graceMs = state.get().config().server().shutdownGrace().toMillis();
    return server.shutdown(graceMs, TimeUnit.MILLISECONDS).eventually(() -> providers.closeAll());
  }
}
