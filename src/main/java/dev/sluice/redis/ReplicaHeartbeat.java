package dev.sluice.redis;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many replicas share Redis right now: each beats into one sorted set ({@code sluice:replicas}, member = a random
 * replica id, score = Redis time) every {@link #BEAT_MILLIS} and reads how many beat within {@link #ALIVE_MILLIS}.
 * The fail-open share is {@code limit ÷ live()}: it follows the fleet as it scales instead of a static guess. During
 * an outage the last count seen stays in force (a fleet that scales during an outage is not noticed until Redis is
 * back); before the first beat, the configured {@code redis.expected-replicas} is used.
 */
public final class ReplicaHeartbeat {
  public static final String KEY = "sluice:replicas";
  static final long BEAT_MILLIS = 5_000;
  static final long ALIVE_MILLIS = 15_000;

  private final Vertx vertx;
  private final Redis redis;
  private final LuaScript script;
  private final long timeoutMillis;
  private final String id = UUID.randomUUID().toString();
  private final AtomicInteger live;
  private long timer = -1;

  public ReplicaHeartbeat(Vertx vertx, Redis redis, LuaScript script, long timeoutMillis, int initialGuess) {
    this.vertx = vertx;
    this.redis = redis;
    this.script = script;
    this.timeoutMillis = timeoutMillis;
    this.live = new AtomicInteger(Math.max(1, initialGuess));
  }

  public ReplicaHeartbeat start() {
    beat();
    timer = vertx.setPeriodic(BEAT_MILLIS, t -> beat());
    return this;
  }

  public void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  private void beat() {
    script.run(redis, List.of(KEY), List.of(id, Long.toString(ALIVE_MILLIS)), timeoutMillis * 4)
        .onSuccess(count -> live.set(Math.max(1, count.toInteger())));
  }

  /** Live replicas (at least 1), as last seen in Redis. */
  public int live() {
    return live.get();
  }
}
