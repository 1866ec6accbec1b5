package dev.sluice.usage;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes one JSON line per request to the {@code sluice.access} logger, from the usage event. */
public final class AccessLog {
  private static final Logger LOG = LoggerFactory.getLogger("sluice.access");

  private AccessLog() {}

  /** Subscribes one consumer; deploy once per process so each request is logged once. */
  public static Future<MessageConsumer<UsageEvent>> subscribe(Vertx vertx) {
    MessageConsumer<UsageEvent> consumer = vertx.eventBus().consumer(UsageEvent.ADDRESS,
        message -> LOG.info(message.body().toJson().encode()));
    return consumer.completion().map(v -> consumer);
  }
}
