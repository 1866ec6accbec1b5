package dev.sluice;

import dev.sluice.config.ServerConfig;
import dev.sluice.http.ApiRouter;
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
  private HttpServer server;
  private ProviderSet providers;

  /** @param port the port to bind (may differ from config when an environment override or port 0 is used) */
  public GatewayVerticle(Supplier<GatewayState> state, AtomicInteger inFlight, BooleanSupplier ready, int instances, int port,
                         Services services) {
    this.services = services;
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
    ApiRouter api = new ApiRouter(vertx, state, providers, new UsagePublisher(vertx), inFlight, ready, services);
    HttpServerOptions options = new HttpServerOptions()
        .setHost(server.host())
        .setPort(port)
        .setTcpNoDelay(true)
        .setMaxHeaderSize((int) server.maxHeaderSize().bytes())
        .setMaxInitialLineLength(8192)
        .setCompressionSupported(false);
    this.server = vertx.createHttpServer(options)
        .requestHandler(api.router())
        .invalidRequestHandler(ApiRouter::invalidRequest);
    return this.server.listen();
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
