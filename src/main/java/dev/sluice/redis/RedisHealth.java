package dev.sluice.redis;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether Redis is ready for this replica, as {@code /health/ready} reports it. Redis counts as ready once the pool's
 * connections are open on every event loop that serves requests (a connection opened lazily by the first burst costs
 * a TCP and {@code HELLO} handshake on a cold JVM, which alone used to exceed the command timeout), every script is
 * loaded ({@code SCRIPT LOAD}, so the first admission is an {@code EVALSHA} hit) and a round trip has been measured.
 * A failed attempt is logged once with the target stripped of credentials and retried with back-off; once up, a
 * {@code PING} every few seconds keeps the reported state and round trip current, and a Redis that comes back is
 * warmed again (its script cache may be empty after a restart). Thread-safe: the state is read by every event loop.
 */
public final class RedisHealth {
  private static final Logger LOG = LoggerFactory.getLogger(RedisHealth.class);
  /** One warm-up attempt (connects, PINGs, script loads) never takes longer: an unreachable host must not stall. */
  static final long ATTEMPT_TIMEOUT_MILLIS = 5_000;
  /**
   * Connections opened per event loop before ready: what one loop keeps busy at once under load (one command per
   * in-flight request step; a saturated 2-core replica has 10-30 outstanding). Not the whole pool: on a cold, loaded
   * JVM each connection costs tens of milliseconds, and the rest of the pool must stay free for requests that arrive
   * while a retry warms it. Connections beyond these are opened by the load that needs them, on a warm JVM.
   */
  static final int CONNECTIONS_PER_EVENT_LOOP = 16;
  static final long FIRST_RETRY_MILLIS = 250;
  static final long MAX_RETRY_MILLIS = 2_000;
  static final long CHECK_EVERY_MILLIS = 5_000;

  /** What readiness reports as {@code redis}. */
  public enum State {
    /** No Redis configured: everything is in memory. */
    OFF,
    /** The first warm-up has not finished yet. */
    CONNECTING,
    UP,
    DOWN;

    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Vertx vertx;
  private final Redis redis;
  private final int poolSize;
  private final List<LuaScript> scripts;
  private final String url;
  private final String target;
  private final Promise<Void> firstAttempt = Promise.promise();
  private volatile State state;
  private volatile boolean everUp;
  private volatile boolean stopped;
  private volatile long roundTripNanos = -1;
  private volatile List<Context> eventLoops = List.of();
  private volatile long timer = -1;
  /** Where the warm-ups and checks run, one step at a time. */
  private volatile Context home;
  private int failedAttempts; // only on home

  private RedisHealth(Vertx vertx, Redis redis, int poolSize, List<LuaScript> scripts, String url, State state) {
    this.vertx = vertx;
    this.redis = redis;
    this.poolSize = poolSize;
    this.scripts = List.copyOf(scripts);
    this.url = url;
    this.target = RedisConnections.describe(url);
    this.state = state;
  }

  /** A gateway without Redis: always ready, reports {@code redis: off}. */
  public static RedisHealth off() {
    return new RedisHealth(null, null, 0, List.of(), "off://", State.OFF);
  }

  /**
   * @param poolSize the pool's maximum size (the warm-up never takes more than its share per event loop)
   * @param scripts every script the gateway runs, loaded before the replica reports ready
   * @param url {@code redis.url}; only its host part ever reaches a log line
   */
  public static RedisHealth of(Vertx vertx, Redis redis, int poolSize, List<LuaScript> scripts, String url) {
    return new RedisHealth(Objects.requireNonNull(vertx, "vertx"), Objects.requireNonNull(redis, "redis"), poolSize,
        scripts, url, State.CONNECTING);
  }

  public State state() {
    return state;
  }

  /** Whether Redis was warmed at least once since start. */
  public boolean everUp() {
    return everUp;
  }

  /** The last measured {@code PING} round trip in milliseconds, or -1 before the first one. */
  public double roundTripMillis() {
    long nanos = roundTripNanos;
    return nanos < 0 ? -1 : Math.round(nanos / 10_000.0) / 100.0;
  }

  /**
   * Whether this replica may take traffic as far as Redis is concerned. Without Redis, or once it has been warmed,
   * yes: an outage after that is reported but does not take the replica out of service, since every replica shares
   * the one Redis and the tenants' policies (fail-open share, fail-closed 503) answer for it. Before the first
   * warm-up: not while it is still running; after it failed, only when no tenant is fail-closed.
   */
  public boolean allowsTraffic(boolean anyTenantFailClosed) {
    State now = state;
    if (now == State.OFF || everUp) return true;
    return now == State.DOWN && !anyTenantFailClosed;
  }

  /**
   * Warms Redis on the given event loops (the contexts that serve requests: the pool prefers a connection of the
   * caller's own event loop) and keeps checking it afterwards. The future completes when the first attempt has
   * finished, successfully or not; it never fails.
   */
  public Future<Void> start(List<Context> loops) {
    if (state == State.OFF) return Future.succeededFuture();
    eventLoops = List.copyOf(loops);
    home = loops.isEmpty() ? vertx.getOrCreateContext() : loops.get(0);
    home.runOnContext(v -> attempt());
    return firstAttempt.future();
  }

  public void stop() {
    stopped = true;
    long id = timer;
    if (id >= 0 && vertx != null) vertx.cancelTimer(id);
    firstAttempt.tryComplete();
  }

  /** One warm-up (on {@code home}, like every step here: one step is scheduled at a time). */
  private void attempt() {
    if (stopped) return;
    long started = System.nanoTime();
    warm().timeout(ATTEMPT_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
        .onComplete(ar -> home.runOnContext(v -> attempted(ar, started)));
  }

  /** Records the outcome and schedules the next step: a periodic check when up, a retry with back-off when not. */
  private void attempted(AsyncResult<Long> ar, long started) {
    if (ar.succeeded()) {
      roundTripNanos = ar.result();
      if (failedAttempts > 0) {
        LOG.info("Redis at {} is reachable after {} failed attempt(s): {} connections open, {} scripts loaded, PING {} ms",
            target, failedAttempts, warmConnections(), scripts.size(), roundTripMillis());
      } else {
        LOG.info("Redis at {} ready in {} ms: {} connections open, {} scripts loaded, PING {} ms", target,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), warmConnections(), scripts.size(), roundTripMillis());
      }
      failedAttempts = 0;
      everUp = true;
      state = State.UP;
      schedule(CHECK_EVERY_MILLIS, this::check);
    } else {
      failedAttempts++;
      state = State.DOWN;
      String why = RedisConnections.redact(describe(ar.cause()), url);
      if (failedAttempts == 1) {
        LOG.warn("Redis at {} is unreachable ({}); {}; retrying in the background", target, why,
            everUp ? "requests follow each tenant's on-redis-failure policy"
                : "replicas with a fail-closed tenant stay unready until it answers");
      } else {
        LOG.debug("Redis at {} still unreachable (attempt {}): {}", target, failedAttempts, why);
      }
      schedule(Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(4, failedAttempts - 1)), this::attempt);
    }
    firstAttempt.tryComplete();
  }

  /** A {@code PING} while Redis is up: keeps the state and round trip current; a failure starts the warm-ups again. */
  private void check() {
    long sent = System.nanoTime();
    RedisDeadline.within(redis.send(Request.cmd(Command.PING)), ATTEMPT_TIMEOUT_MILLIS).onComplete(ar -> home.runOnContext(v -> {
      if (ar.succeeded()) {
        roundTripNanos = System.nanoTime() - sent;
        schedule(CHECK_EVERY_MILLIS, this::check);
      } else {
        attempt(); // logs the outage once, retries with back-off and warms the pool again when Redis is back
      }
    }));
  }

  private void schedule(long delayMillis, Runnable step) {
    if (stopped) return;
    timer = vertx.setTimer(delayMillis, id -> step.run());
  }

  private int warmConnections() {
    int loops = Math.max(1, eventLoops.size());
    return loops * Math.max(1, Math.min(CONNECTIONS_PER_EVENT_LOOP, poolSize / loops));
  }

  /** Opens connections on every event loop, loads the scripts, then measures one round trip (nanos). */
  private Future<Long> warm() {
    List<Context> loops = eventLoops.isEmpty() ? List.of(vertx.getOrCreateContext()) : eventLoops;
    int perLoop = warmConnections() / Math.max(1, eventLoops.size());
    List<Future<Void>> opened = new ArrayList<>();
    for (Context loop : loops) {
      Promise<Void> done = Promise.promise();
      loop.runOnContext(v -> openConnections(perLoop).onComplete(done));
      opened.add(done.future());
    }
    return Future.all(opened).compose(v -> loadScripts()).compose(v -> {
      long sent = System.nanoTime();
      return redis.send(Request.cmd(Command.PING)).map(pong -> System.nanoTime() - sent);
    });
  }

  /**
   * Holds {@code count} connections at once from the calling event loop (on a fresh pool each one is new and bound to
   * this loop, since the others are held until all are open), sends each a {@code PING}, then returns them all.
   */
  private Future<Void> openConnections(int count) {
    List<Future<RedisConnection>> connections = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      connections.add(redis.connect().compose(c -> c.send(Request.cmd(Command.PING)).map(pong -> c)));
    }
    return Future.join(connections).transform(ar -> {
      for (Future<RedisConnection> c : connections) {
        if (c.succeeded()) c.result().close();
      }
      return ar.succeeded() ? Future.succeededFuture() : Future.failedFuture(ar.cause());
    });
  }

  private Future<Void> loadScripts() {
    List<Future<Response>> loads = new ArrayList<>();
    for (LuaScript script : scripts) {
      loads.add(redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(script.text())).andThen(ar -> {
        if (ar.succeeded() && !script.sha().equals(ar.result().toString())) {
          LOG.warn("Redis returned SHA {} for script {}, expected {}", ar.result(), script.name(), script.sha());
        }
      }));
    }
    return Future.all(loads).mapEmpty();
  }

  private static String describe(Throwable failure) {
    if (failure == null) return "no reason given";
    String message = failure.getMessage();
    return failure.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
