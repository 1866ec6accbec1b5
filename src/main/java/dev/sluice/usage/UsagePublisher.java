package dev.sluice.usage;

import io.vertx.core.Vertx;

/** Publishes usage events on the event bus; fire-and-forget, so the request path never waits on consumers. */
public final class UsagePublisher {
  private final Vertx vertx;

  public UsagePublisher(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Registers the local codec; call once per Vertx instance before any publish. */
  public static void registerCodec(Vertx vertx) {
    vertx.eventBus().registerDefaultCodec(UsageEvent.class, new UsageEventCodec());
  }

  public void publish(UsageEvent event) {
    vertx.eventBus().publish(UsageEvent.ADDRESS, event);
  }
}
