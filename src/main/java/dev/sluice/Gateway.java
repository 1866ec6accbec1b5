package dev.sluice;

import dev.sluice.cache.LocalResponseCache;
import dev.sluice.cache.RedisResponseCache;
import dev.sluice.cache.SingleFlight;
import dev.sluice.config.Deployment;
import dev.sluice.config.ModelRoute;
import dev.sluice.config.RedisConfig;
import dev.sluice.routing.DeploymentHealth;
import dev.sluice.routing.SharedBreakers;
import dev.sluice.cache.RedisSharedFlights;
import dev.sluice.cache.SharedFlights;
import dev.sluice.config.SluiceConfig;
import dev.sluice.http.Services;
import dev.sluice.ratelimit.LocalBudgetGuard;
import dev.sluice.ratelimit.LocalRateLimiter;
import dev.sluice.ratelimit.QuotaScripts;
import dev.sluice.ratelimit.RedisQuotas;
import dev.sluice.redis.LuaScript;
import dev.sluice.redis.RedisBreaker;
import dev.sluice.redis.RedisConnections;
import dev.sluice.redis.RedisHealth;
import dev.sluice.redis.ReplicaHeartbeat;
import dev.sluice.config.ServerConfig;
import dev.sluice.http.AdminRouter;
import dev.sluice.http.ClientLimits;
import dev.sluice.http.MetricsEndpoint;
import dev.sluice.usage.GatewayMetrics;
import dev.sluice.usage.LocalSpendLedger;
import dev.sluice.usage.RedisSpendLedger;
import dev.sluice.usage.SpendLedger;
import dev.sluice.usage.UsageEvent;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.time.LocalDate;
import java.time.ZoneOffset;
import dev.sluice.usage.TokenCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.redis.client.Redis;
import java.time.Clock;
import dev.sluice.http.GatewayState;
import dev.sluice.usage.AccessLog;
import dev.sluice.usage.UsagePublisher;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: its verticles, the shared config snapshot they read, and its lifecycle. Used by {@link Main}
 * and by tests (which start it in-process on port 0).
 */
public final class Gateway {
  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
  /**
   * Every Lua script the Redis-backed services run: loaded ({@code SCRIPT LOAD}) before the replica reports ready, so
   * the first admission after start is an {@code EVALSHA} hit. A script added or renamed must be listed here (a test
   * compares this list with the {@code .lua} resources).
   */
  static final List<LuaScript> REDIS_SCRIPTS = java.util.stream.Stream.concat(QuotaScripts.ALL.stream(),
      java.util.stream.Stream.of(RedisSharedFlights.ACQUIRE, RedisSharedFlights.RELEASE)).toList();

  private final Vertx vertx;
  private final AtomicReference<GatewayState> state;
  private final AtomicLong versions = new AtomicLong(1);
  private final AtomicInteger inFlight = new AtomicInteger();
  private final ClientLimits limits = new ClientLimits();
  private final AccessLog accessLog = AccessLog.toLogger();
  private volatile boolean draining;
  private volatile int port;
  private Services services;
  private GatewayMetrics metrics;
  private SpendLedger ledger;
  private Clock clock;
  private HttpServer admin;
  private int adminPort = -1;
  private HttpServer metricsServer;
  private int metricsPort = -1;
  private boolean ephemeralPorts;
  private Redis redis;
  private RedisHealth redisHealth = RedisHealth.off();
  private final List<GatewayVerticle> verticles = Collections.synchronizedList(new ArrayList<>());
  private RedisQuotas quotas;
  private ReplicaHeartbeat heartbeat;
  private SharedBreakers sharedBreakers;
  private String firstDeployment;
  private String restDeployment;

  private Gateway(Vertx vertx, SluiceConfig config) {
    this.vertx = vertx;
    this.state = new AtomicReference<>(GatewayState.build(1, config));
  }

  /**
   * Deploys one verticle per configured instance. With port 0 the first instance picks the port and the others
   * share it.
   *
   * @param portOverride a port to bind instead of {@code server.port}, or -1
   */
  public static Future<Gateway> start(Vertx vertx, SluiceConfig config, int portOverride) {
    return start(vertx, config, portOverride, Clock.systemUTC());
  }

  /** @param clock drives the in-memory buckets, the Redis breaker and budget days; tests pass a manual one */
  public static Future<Gateway> start(Vertx vertx, SluiceConfig config, int portOverride, Clock clock) {
    return start(vertx, config, portOverride, clock, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** @param registry where the gateway's meters go; {@link Main} passes the one Vert.x's own metrics use */
  public static Future<Gateway> start(Vertx vertx, SluiceConfig config, int portOverride, Clock clock, MeterRegistry registry) {
    Gateway gateway = new Gateway(vertx, config);
    gateway.ephemeralPorts = portOverride == 0;
    gateway.metrics = new GatewayMetrics(registry, () -> gateway.state.get().tenantIds(), () -> gateway.state.get().config().models().keySet());
    gateway.metrics.registerCounter("llm_access_log_dropped_total", "reason", "queue_full", gateway.accessLog,
        AccessLog::dropped);
    int instances = config.server().instances() == 0 ? Runtime.getRuntime().availableProcessors() : config.server().instances();
    int requestedPort = portOverride >= 0 ? portOverride : config.server().port();
    try {
      UsagePublisher.registerCodec(vertx);
    } catch (IllegalStateException alreadyRegistered) {
      // another gateway in this Vertx (tests) registered it first
    }
    // Vert.x shares one random port between servers that listen on the same negative port; plain 0 would give
    // each event loop its own port.
    int bindPort = requestedPort == 0 && instances > 1 ? -1 : requestedPort;
    return vertx.executeBlocking(TokenCounter::shared)
        .map(tokens -> gateway.services = gateway.createServices(config, tokens, clock))
        .compose(services -> gateway.deploy(instances, bindPort));
  }

  private Services createServices(SluiceConfig config, TokenCounter tokens, Clock clock) {
    RedisConfig redisConfig = config.redis();
    SingleFlight flights = new SingleFlight();
    this.clock = clock;
    if (!redisConfig.enabled()) {
      ledger = new LocalSpendLedger();
      return new Services(new LocalRateLimiter(clock::millis, 1), new LocalBudgetGuard(1),
          new LocalResponseCache(config.cache().maxEntries(), () -> clock.millis() * 1_000_000L), flights,
          SharedFlights.LOCAL, tokens, clock,
          metrics, health(config, clock), new AtomicInteger(), inFlight, redisHealth);
    }
    redis = RedisConnections.create(vertx, redisConfig);
    redisHealth = RedisHealth.of(vertx, redis, RedisConnections.POOL_SIZE, REDIS_SCRIPTS, redisConfig.url());
    long timeout = redisConfig.commandTimeout().toMillis();
    heartbeat = new ReplicaHeartbeat(vertx, redis, QuotaScripts.REPLICAS, timeout, redisConfig.expectedReplicas()).start();
    // Limits, budgets and the ledger: one script per admission and one per settlement, one breaker. The cache has
    // its own, so a broken cache key space does not switch off rate limiting, and vice versa.
    quotas = new RedisQuotas(vertx, redis, timeout, new RedisBreaker(clock::millis),
        new LocalRateLimiter(clock::millis, heartbeat::live), new LocalBudgetGuard(heartbeat::live), clock::millis).start();
    RedisQuotas limiter = quotas;
    RedisQuotas budgets = quotas;
    RedisResponseCache cache = new RedisResponseCache(redis, timeout, new RedisBreaker(clock::millis));
    RedisSpendLedger redisLedger = new RedisSpendLedger(redis, timeout, quotas);
    ledger = redisLedger;
    metrics.registerCounter("llm_redis_errors_total", "op", "quota", quotas, RedisQuotas::redisErrors);
    metrics.registerCounter("llm_redis_retries_total", "op", "settle", quotas, RedisQuotas::retries);
    metrics.registerCounter("llm_redis_bad_arguments_total", "op", "quota", quotas, RedisQuotas::badArguments);
    metrics.registerCounter("llm_redis_errors_total", "op", "cache", cache, RedisResponseCache::errors);
    metrics.registerCounter("llm_ratelimit_degraded_total", "backend", "redis", quotas, RedisQuotas::degradedDecisions);
    metrics.registerCounter("llm_redis_corrupt_total", "op", "ratelimit", quotas, RedisQuotas::corruptKeys);
    metrics.registerCounter("llm_redis_corrupt_total", "op", "cache", cache, RedisResponseCache::corruptEntries);
    metrics.registerGauge("llm_redis_live_replicas", "backend", "redis", heartbeat, ReplicaHeartbeat::live);
    DeploymentHealth health = health(config, clock);
    sharedBreakers = new SharedBreakers(vertx, redis, health, timeout);
    sharedBreakers.start(); // in the background: a Redis outage at startup must not stop the gateway
    metrics.registerCounter("llm_redis_errors_total", "op", "breakers", sharedBreakers, SharedBreakers::errors);
    RedisSharedFlights sharedFlights = new RedisSharedFlights(vertx, redis, timeout, config.cache().flightLockTtl(),
        new RedisBreaker(clock::millis));
    metrics.registerCounter("llm_redis_errors_total", "op", "flight", sharedFlights, RedisSharedFlights::errors);
    metrics.registerCounter("llm_cache_fleet_waits_total", "backend", "redis", sharedFlights, RedisSharedFlights::waits);
    return new Services(limiter, budgets, cache, flights, sharedFlights, tokens, clock, metrics, health, new AtomicInteger(),
        inFlight, redisHealth);
  }

  /** Breakers and cool-downs per deployment; their states are exported as {@code llm_circuit_state}. */
  private DeploymentHealth health(SluiceConfig config, Clock clock) {
    DeploymentHealth health = new DeploymentHealth(config.resilience(), clock);
    metrics.registerCounter("llm_possible_duplicate_total", "scope", "upstream", health, DeploymentHealth::possibleDuplicates);
    java.util.Set<String> registered = new java.util.HashSet<>();
    for (ModelRoute route : config.models().values()) {
      for (Deployment d : route.deployments()) {
        // aliases may share a deployment (and its breaker): one gauge per deployment
        if (!registered.add(DeploymentHealth.name(d))) continue;
        DeploymentHealth.Entry entry = health.of(d);
        metrics.registerGauge("llm_circuit_state", "deployment", DeploymentHealth.name(d), entry, DeploymentHealth.Entry::state);
      }
    }
    return health;
  }

  private Future<Gateway> deploy(int instances, int bindPort) {
    Gateway gateway = this;
    GatewayVerticle first = gateway.verticle(instances, bindPort);
    return subscribeUsageSinks()
        .compose(c -> startAdmin())
        .compose(c -> startMetrics())
        .compose(c -> vertx.deployVerticle(first, new DeploymentOptions().setThreadingModel(ThreadingModel.EVENT_LOOP)))
        .compose(id -> {
          gateway.firstDeployment = id;
          gateway.port = first.actualPort();
          if (instances == 1) return Future.succeededFuture(gateway);
          return vertx.deployVerticle(() -> gateway.verticle(instances, bindPort),
                  new DeploymentOptions().setInstances(instances - 1))
              .map(rest -> {
                gateway.restDeployment = rest;
                return gateway;
              });
        })
        .compose(g -> warmRedis());
  }

  /**
   * Opens the Redis pool on the event loops that serve requests and loads the scripts (see {@link RedisHealth}); the
   * gateway's start waits for this first attempt, successful or not, so a replica starts warm when Redis is there and
   * still starts (and serves its fail-open tenants) when it is not.
   */
  private Future<Gateway> warmRedis() {
    List<io.vertx.core.Context> loops = new ArrayList<>();
    synchronized (verticles) {
      verticles.forEach(v -> loops.add(v.eventLoop()));
    }
    return redisHealth.start(loops).map(this);
  }

  /**
   * One consumer of {@code sluice.usage} feeds the access log, the metrics and the spend ledger, in that order (one
   * delivery per event rather than one per sink). It runs on its own event loop, off the request path.
   */
  private Future<Void> subscribeUsageSinks() {
    MessageConsumer<UsageEvent> consumer = vertx.eventBus().consumer(UsageEvent.ADDRESS, message -> {
      UsageEvent event = message.body();
      accessLog.write(event);
      metrics.record(event);
      if (event.tenant() == null || event.costUsd() <= 0) return;
      ledger.record(event).compose(v -> ledger.latestSpend(event.tenant(), LocalDate.now(clock.withZone(ZoneOffset.UTC))))
          .onSuccess(spend -> java.util.Optional.ofNullable(state.get().tenantsById().get(event.tenant()))
              .ifPresent(t -> publishBudget(t, spend)));
    });
    publishBudgets(state.get().config());
    return consumer.completion();
  }

  /**
   * The budget gauges of every tenant with a budget, from the ledger: present from the start (and after a reload),
   * not only once a priced request was booked, so the budget panel and alert have data.
   */
  private void publishBudgets(SluiceConfig config) {
    LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    for (dev.sluice.config.TenantConfig t : config.tenants()) {
      if (t.budget().dailyUsd() == null && t.budget().monthlyUsd() == null) continue;
      ledger.spend(t.id(), today).onSuccess(spend -> publishBudget(t, spend))
          .onFailure(e -> LOG.debug("budget gauge of {} not published yet: {}", t.id(), e.toString()));
    }
  }

  private void publishBudget(dev.sluice.config.TenantConfig t, SpendLedger.Spend spend) {
    double left = Double.MAX_VALUE;
    double cap = 0;
    if (t.budget().dailyUsd() != null) {
      left = t.budget().dailyUsd() - spend.dayUsd();
      cap = t.budget().dailyUsd();
    }
    if (t.budget().monthlyUsd() != null && t.budget().monthlyUsd() - spend.monthUsd() < left) {
      left = t.budget().monthlyUsd() - spend.monthUsd();
      cap = t.budget().monthlyUsd();
    }
    if (left != Double.MAX_VALUE) metrics.budgetRemaining(t.id(), Math.max(0, left), cap);
  }

  /** The admin listener, only when an admin token is configured (an unauthenticated admin API is never served). */
  private Future<Void> startAdmin() {
    ServerConfig server = state.get().config().server();
    if (server.adminToken().isEmpty()) {
      LOG.info("admin listener disabled: set server.admin-token (SLUICE_ADMIN_TOKEN) to enable it");
      return Future.succeededFuture();
    }
    admin = vertx.createHttpServer(new HttpServerOptions().setHost(server.adminHost()).setPort(server.adminPort()))
        .requestHandler(new AdminRouter(vertx, state::get, ledger, clock, services.health()).router());
    return ListenFailure.named(admin.listen(), server.adminHost(), server.adminPort()).map(s -> {
      adminPort = s.actualPort();
      return null;
    });
  }

  /**
   * The metrics listener ({@code server.metrics: HOST:PORT}); none when metrics are off or on the client port. A gateway
   * started on port 0 (in-process, tests) binds it on an ephemeral port as well.
   */
  private Future<Void> startMetrics() {
    ServerConfig.MetricsListener listener = state.get().config().server().metricsListener();
    if (listener.off() || listener.onApiPort()) return Future.succeededFuture();
    metricsServer = vertx.createHttpServer(new HttpServerOptions().setHost(listener.host())
            .setPort(ephemeralPorts ? 0 : listener.port()).setHttp2ClearTextEnabled(false))
        .requestHandler(MetricsEndpoint.listener(metrics.registry()));
    return metricsServer.listen().map(s -> {
      metricsPort = s.actualPort();
      return null;
    });
  }

  /** The metrics listener's port, or -1 when metrics are off or served on the client port. */
  public int metricsPort() {
    return metricsPort;
  }

  /** The admin listener's port, or -1 when it is disabled. */
  public int adminPort() {
    return adminPort;
  }

  public SpendLedger ledger() {
    return ledger;
  }

  private GatewayVerticle verticle(int instances, int bindPort) {
    GatewayVerticle verticle = new GatewayVerticle(state::get, inFlight, () -> !draining, instances, bindPort, services, limits);
    verticles.add(verticle);
    return verticle;
  }

  public int port() {
    return port;
  }

  public GatewayState state() {
    return state.get();
  }

  public int inFlight() {
    return inFlight.get();
  }

  /** Per-address connection and per-tenant upload counts of this gateway. */
  public ClientLimits clientLimits() {
    return limits;
  }

  /** Swaps in a validated config; requests already running keep the snapshot they started with. */
  public void apply(SluiceConfig config) {
    GatewayState next = GatewayState.build(versions.incrementAndGet(), config);
    state.set(next);
    if (ledger != null) publishBudgets(config);
    LOG.info("config version {} active: {} tenants, {} aliases, {} providers", next.version(), config.tenants().size(),
        config.models().size(), config.providers().size());
  }

  /** Stops taking traffic (readiness turns 503) and drains in-flight requests for up to the shutdown grace. */
  public Future<Void> stop() {
    draining = true;
    Future<Void> rest = restDeployment == null ? Future.succeededFuture() : vertx.undeploy(restDeployment);
    return rest.eventually(() -> firstDeployment == null ? Future.succeededFuture() : vertx.undeploy(firstDeployment))
        .eventually(() -> admin == null ? Future.succeededFuture() : admin.close())
        .eventually(() -> metricsServer == null ? Future.succeededFuture() : metricsServer.close())
        .eventually(() -> sharedBreakers == null ? Future.succeededFuture() : sharedBreakers.stop())
        .eventually(() -> {
          redisHealth.stop();
          if (quotas != null) quotas.stop();
          if (heartbeat != null) heartbeat.stop();
          return Future.succeededFuture();
        })
        .eventually(() -> redis == null ? Future.succeededFuture() : redis.close())
        .eventually(() -> vertx.executeBlocking(() -> {
          accessLog.close(); // writes the lines still queued
          return null;
        }, false).mapEmpty());
  }
}
