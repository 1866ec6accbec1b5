package dev.sluice.routing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shares breaker openings between replicas over Redis pub/sub (channel {@value #CHANNEL}): when a deployment's breaker
 * opens on one replica, the others refuse it too until the same time, instead of each paying its own window of
 * failures first. Each replica still sends its own half-open probes afterwards. Best effort by design: a lost message
 * or a Redis outage only means replicas learn on their own, as without Redis; the subscriber reconnects with backoff.
 */
public final class SharedBreakers {
  static final String CHANNEL = "sluice:breakers";
  private static final Logger LOG = LoggerFactory.getLogger(SharedBreakers.class);

  private final Vertx vertx;
  private final Redis redis;
  private final DeploymentHealth health;
  private final long timeoutMillis;
  private final String replica = UUID.randomUUID().toString();
  private final LongAdder errors = new LongAdder();
  private volatile RedisConnection subscriber;
  private long reconnectDelay = 500;
  private volatile boolean stopped;

  public SharedBreakers(Vertx vertx, Redis redis, DeploymentHealth health, long timeoutMillis) {
    this.vertx = vertx;
    this.redis = redis;
    this.health = health;
    this.timeoutMillis = timeoutMillis;
  }

  /** Subscribes (retrying in the background if Redis is down) and starts publishing this replica's openings. */
  public void start() {
    health.onOpened(this::publish);
    subscribe();
  }

  public Future<Void> stop() {
    stopped = true;
    health.onOpened((deployment, until) -> { });
    RedisConnection connection = subscriber;
    subscriber = null;
    return connection == null ? Future.succeededFuture() : connection.close();
  }

  /** Failed publishes and subscriber connection losses (the {@code llm_redis_errors_total{op="breakers"}} counter). */
  public long errors() {
    return errors.sum();
  }

  private void publish(String deployment, long untilMillis) {
    String message = new JsonObject().put("replica", replica).put("deployment", deployment).put("until", untilMillis).encode();
    redis.send(Request.cmd(Command.PUBLISH).arg(CHANNEL).arg(message))
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .onFailure(e -> errors.increment());
  }

  private void subscribe() {
    if (stopped) return;
    redis.connect().timeout(timeoutMillis * 20, TimeUnit.MILLISECONDS).compose(connection -> {
      connection.handler(this::onMessage);
      connection.exceptionHandler(e -> lost(connection));
      connection.endHandler(v -> lost(connection));
      return connection.send(Request.cmd(Command.SUBSCRIBE).arg(CHANNEL)).timeout(timeoutMillis * 20, TimeUnit.MILLISECONDS)
          .map(connection)
          .onFailure(e -> connection.close()); // a connection that could not subscribe is of no use
    }).onSuccess(connection -> {
      if (stopped) {
        connection.close();
        return;
      }
      subscriber = connection;
      reconnectDelay = 500;
    }).onFailure(e -> retry());
  }

  private void lost(RedisConnection connection) {
    if (connection != subscriber) return;
    subscriber = null;
    errors.increment();
    retry();
  }

  private void retry() {
    if (stopped) return;
    long delay = reconnectDelay;
    reconnectDelay = Math.min(10_000, reconnectDelay * 2);
    vertx.setTimer(delay, id -> subscribe());
  }

  /** Push messages arrive as {@code ["message", channel, payload]}; anything else is ignored. */
  private void onMessage(Response response) {
    if (response == null || response.size() != 3 || !"message".equals(response.get(0).toString())) return;
    try {
      JsonObject message = new JsonObject(response.get(2).toString());
      if (replica.equals(message.getString("replica"))) return; // our own opening, already applied
      String deployment = message.getString("deployment");
      Long until = message.getLong("until");
      if (deployment != null && until != null) health.openedElsewhere(deployment, until);
    } catch (RuntimeException e) {
      LOG.warn("ignored a malformed message on {}", CHANNEL);
    }
  }
}
