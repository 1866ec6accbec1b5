package dev.sluice;

import dev.sluice.auth.KeyDigest;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigReloader;
import dev.sluice.config.Durations;
import dev.sluice.config.SluiceConfig;
import dev.sluice.mock.MockUpstreamServer;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Clock;
import java.util.EnumSet;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line: {@code sluice [--config FILE] [--validate-config]}, {@code sluice hash-key KEY},
 * {@code sluice mock-upstream [--port N] [--latency 20ms] [--tps 200] [--error-rate 0.0] [--error-status 500]},
 * {@code sluice healthcheck [--url URL]} (exit 0 when the gateway is ready: the container image's health check).
 * Without a config file Sluice runs on its embedded defaults (mock provider, demo tenant, in-memory state).
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    List<String> argv = Arrays.asList(args);
    Map<String, String> env = System.getenv();
    if (!argv.isEmpty() && argv.get(0).equals("hash-key")) {
      System.exit(hashKey(argv, env));
    }
    if (!argv.isEmpty() && argv.get(0).equals("healthcheck")) {
      System.exit(healthcheck(option(argv, "--url", "http://127.0.0.1:" + env.getOrDefault("SLUICE_PORT", "8080").trim()
          + "/health/ready")));
    }
    if (!argv.isEmpty() && argv.get(0).equals("mock-upstream")) {
      mockUpstream(argv);
      return;
    }
    if (argv.contains("--help") || argv.contains("-h")) {
      System.out.println("usage: sluice [--config FILE] [--validate-config] | hash-key KEY | healthcheck [--url URL]"
          + " | mock-upstream [--port N] [--latency 20ms] [--tps 200] [--error-rate 0.0] [--error-status 500]");
      return;
    }
    String configPath = option(argv, "--config", env.get("SLUICE_CONFIG"));
    SluiceConfig config;
    EmbeddedDefaults.Defaults defaults = null;
    try {
      if (configPath != null && !configPath.isBlank()) {
        config = ConfigLoader.load(Path.of(configPath), env);
      } else {
        defaults = EmbeddedDefaults.create(env);
        config = defaults.config();
      }
    } catch (ConfigException e) {
      System.err.println("sluice: invalid configuration" + (configPath == null ? "" : " in " + configPath) + ":");
      e.problems().forEach(p -> System.err.println("  " + p));
      System.exit(2);
      return;
    }
    if (argv.contains("--validate-config")) {
      System.out.println("sluice: configuration is valid (" + config.tenants().size() + " tenants, "
          + config.models().size() + " aliases, " + config.providers().size() + " providers)");
      return;
    }
    int port = env.containsKey("SLUICE_PORT") && configPath != null ? Integer.parseInt(env.get("SLUICE_PORT").trim()) : -1;
    // One Prometheus registry for Vert.x's own meters (method and code labels only: never the path) and ours.
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    String vertxMetrics = env.getOrDefault("SLUICE_VERTX_METRICS", "client").trim().toLowerCase(java.util.Locale.ROOT);
    if (vertxMetrics.equals("on") || vertxMetrics.equals("true")) vertxMetrics = "client"; // the values of earlier versions
    if (!List.of("client", "all", "off").contains(vertxMetrics)) {
      System.err.println("sluice: SLUICE_VERTX_METRICS=" + vertxMetrics + " (expected: client, all or off)");
      System.exit(2);
      return;
    }
    Vertx vertx = vertxMetrics.equals("off")
        ? Vertx.vertx(new VertxOptions().setPreferNativeTransport(true))
        : Vertx.builder().with(new VertxOptions().setPreferNativeTransport(true).setMetricsOptions(vertxMetrics(vertxMetrics)))
            .withMetrics(new MicrometerMetricsFactory(registry)).build();
    FatalErrors.install(vertx); // an OutOfMemoryError halts the process instead of leaving it half alive
    Gateway gateway;
    try {
      gateway = Gateway.start(vertx, config, port, Clock.systemUTC(), registry).await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.error("sluice failed to start: {}", e.toString());
      vertx.close().await(10, TimeUnit.SECONDS);
      System.exit(1);
      return;
    }
    if (defaults != null && defaults.generatedKey()) {
      System.out.println("Sluice demo tenant key (shown once; set SLUICE_DEMO_KEY to fix it): " + defaults.demoKey());
    }
    LOG.info("sluice listening on port {} ({} providers, {} aliases, {} tenants{})", gateway.port(),
        config.providers().size(), config.models().size(), config.tenants().size(),
        defaults == null ? "" : ", embedded defaults");
    ConfigReloader reloader = null;
    if (configPath != null && !configPath.isBlank()) {
      reloader = new ConfigReloader(vertx, Path.of(configPath), env, gateway::apply);
      reloader.watch(2000);
      installSighup(reloader);
    }
    ConfigReloader watching = reloader;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("sluice shutting down: draining in-flight requests");
      if (watching != null) watching.stop();
      try {
        gateway.stop().await(config.server().shutdownGrace().toMillis() + 5000, TimeUnit.MILLISECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("shutdown did not complete cleanly: {}", e.toString());
      }
    }, "sluice-shutdown"));
  }

  @SuppressWarnings("restriction")
  private static void installSighup(ConfigReloader reloader) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> reloader.reload());
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      LOG.info("SIGHUP reload unavailable on this platform; file watching still applies");
    }
  }

  private static int hashKey(List<String> argv, Map<String, String> env) throws Exception {
    String key = argv.size() > 1 ? argv.get(1) : null;
    if (key == null || key.equals("-")) {
      key = new String(System.in.readAllBytes()).trim();
    }
    if (key.isEmpty()) {
      System.err.println("usage: sluice hash-key KEY   (or pipe the key on stdin; uses SLUICE_KEY_PEPPER)");
      return 2;
    }
    String pepper = env.getOrDefault("SLUICE_KEY_PEPPER", "dev-pepper");
    System.out.println(new KeyDigest(pepper.isEmpty() ? "dev-pepper" : pepper).configDigest(key));
    return 0;
  }

  private static void mockUpstream(List<String> argv) {
    MockUpstreamServer.Settings settings = new MockUpstreamServer.Settings(
        option(argv, "--host", "127.0.0.1"),
        Integer.parseInt(option(argv, "--port", "9000")),
        Durations.parse(option(argv, "--latency", "0ms")),
        Integer.parseInt(option(argv, "--tps", "200")),
        Double.parseDouble(option(argv, "--error-rate", "0")),
        Integer.parseInt(option(argv, "--error-status", "500")));
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    int instances = Integer.parseInt(option(argv, "--instances", "1"));
    for (int i = 0; i < instances; i++) {
      int port = new MockUpstreamServer(vertx, settings).start().await();
      if (i == 0) System.out.println("sluice mock-upstream listening on " + settings.host() + ":" + port);
    }
  }

  /**
   * Vert.x's own meters, with cached lookups. {@code client} (default): the upstream HTTP client and pool meters
   * (connections, queue waits: where provider trouble shows first). {@code all} adds the HTTP server meters, which
   * repeat what {@code llm_requests_total} and {@code llm_request_duration_seconds} say and cost about 10 % of the CPU
   * per request (docs/benchmarks.md). Event-bus, TCP and verticle meters are never on.
   */
  static MicrometerMetricsOptions vertxMetrics(String mode) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true).setMeterCacheEnabled(true)
        // No POOL_NAME: Vert.x names a client pool after the upstream's host:port, which must not leak into labels.
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE))
        .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS).addDisabledMetricsCategory(MetricsDomain.NET_SERVER)
        .addDisabledMetricsCategory(MetricsDomain.NET_CLIENT).addDisabledMetricsCategory(MetricsDomain.DATAGRAM_SOCKET)
        .addDisabledMetricsCategory(MetricsDomain.VERTICLES);
    return mode.equals("all") ? metrics : metrics.addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER);
  }

  /** GET the readiness URL with a 3 s budget: 0 when it answers 200, 1 otherwise (what HEALTHCHECK wants). */
  static int healthcheck(String url) {
    try {
      java.net.http.HttpResponse<Void> response = java.net.http.HttpClient.newBuilder()
          .connectTimeout(java.time.Duration.ofSeconds(2)).build()
          .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(java.time.Duration.ofSeconds(3))
              .GET().build(), java.net.http.HttpResponse.BodyHandlers.discarding());
      System.out.println("sluice healthcheck: " + url + " → " + response.statusCode());
      return response.statusCode() == 200 ? 0 : 1;
    } catch (Exception e) {
      System.out.println("sluice healthcheck: " + url + " → " + e.getClass().getSimpleName());
      return 1;
    }
  }

  private static String option(List<String> argv, String name, String fallback) {
    int i = argv.indexOf(name);
    if (i >= 0 && i + 1 < argv.size()) return argv.get(i + 1);
    for (String arg : argv) {
      if (arg.startsWith(name + "=")) return arg.substring(name.length() + 1);
    }
    return fallback;
  }

}
