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
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line: {@code sluice [--config FILE] [--validate-config]}, {@code sluice --version | --help},
 * {@code sluice hash-key KEY},
 * {@code sluice mock-upstream [--port N] [--latency 20ms] [--tps 200] [--error-rate 0.0] [--error-status 500]},
 * {@code sluice healthcheck [--url URL]} (exit 0 when the gateway is ready: the container image's health check).
 * Without a config file Sluice runs on its embedded defaults (mock provider, demo tenant, in-memory state). Parsing is
 * strict: an unknown option or command prints the usage on stderr and exits 2, before anything starts.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  static final String USAGE = String.join("\n",
      "usage: sluice [--config FILE] [--validate-config]   run the gateway (embedded defaults without a config file)",
      "       sluice hash-key KEY|-                          print the digest of a tenant key (uses SLUICE_KEY_PEPPER)",
      "       sluice healthcheck [--url URL]                 exit 0 when the gateway answers /health/ready with 200",
      "       sluice mock-upstream [--host 127.0.0.1] [--port 9000] [--latency 20ms] [--tps 200] [--error-rate 0.0]",
      "                            [--error-status 500] [--instances 1]   a deterministic OpenAI-shaped server",
      "       sluice --version | --help");

  /** A command line that cannot be run: the message goes to stderr, followed by the usage, and the exit code is 2. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message, null, false, false);
    }
  }

  public static void main(String[] args) throws Exception {
    List<String> argv = Arrays.asList(args);
    Map<String, String> env = System.getenv();
    Map<String, String> options;
    try {
      if (!argv.isEmpty() && argv.get(0).equals("hash-key")) {
        System.exit(hashKey(argv, env));
      }
      if (!argv.isEmpty() && argv.get(0).equals("healthcheck")) {
        options = options(argv.subList(1, argv.size()), Set.of("--url"), Set.of());
        System.exit(healthcheck(options.getOrDefault("--url", "http://127.0.0.1:"
            + env.getOrDefault("SLUICE_PORT", "8080").trim() + "/health/ready")));
      }
      if (!argv.isEmpty() && argv.get(0).equals("mock-upstream")) {
        mockUpstream(options(argv.subList(1, argv.size()),
            Set.of("--host", "--port", "--latency", "--tps", "--error-rate", "--error-status", "--instances"), Set.of()));
        return;
      }
      options = options(argv, Set.of("--config"), Set.of("--validate-config", "--help", "-h", "--version"));
    } catch (UsageException e) {
      System.err.println("sluice: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    if (options.containsKey("--help") || options.containsKey("-h")) {
      System.out.println(USAGE);
      return;
    }
    if (options.containsKey("--version")) {
      System.out.println("sluice " + version());
      return;
    }
    String portEnv = env.get("SLUICE_PORT");
    if (portEnv != null && !portEnv.isBlank() && !isPort(portEnv.trim())) {
      System.err.println("sluice: SLUICE_PORT=" + portEnv + " (expected: a port 0..65535)");
      System.exit(2);
      return;
    }
    String configPath = options.getOrDefault("--config", env.get("SLUICE_CONFIG"));
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
    List<String> warnings = defaults == null ? ConfigWarnings.of(config) : List.of();
    if (options.containsKey("--validate-config")) {
      warnings.forEach(w -> System.err.println("sluice: warning: " + w));
      System.out.println("sluice: configuration is valid (" + config.tenants().size() + " tenants, "
          + config.models().size() + " aliases, " + config.providers().size() + " providers)");
      return;
    }
    warnings.forEach(w -> LOG.warn("config warning: {}", w));
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
      ListenFailure bind = ListenFailure.in(e);
      System.err.println("sluice: " + (bind != null ? bind.getMessage() : "failed to start: " + e));
      vertx.close().await(10, TimeUnit.SECONDS);
      System.exit(1);
      return;
    }
    if (defaults != null && defaults.generatedKey()) {
      System.out.println("Sluice demo tenant key (shown once; set SLUICE_DEMO_KEY to fix it): " + defaults.demoKey());
    }
    ConfigReloader reloader = null;
    if (configPath != null && !configPath.isBlank()) {
      reloader = new ConfigReloader(vertx, Path.of(configPath), env, next -> {
        ConfigWarnings.of(next).forEach(w -> LOG.warn("config warning: {}", w));
        gateway.apply(next);
      });
      reloader.watch(2000);
      installSighup(reloader::reload);
    } else {
      // Without a file there is nothing to re-read; SIGHUP's default action would stop the process.
      installSighup(() -> LOG.info("SIGHUP ignored: running on the embedded defaults, no config file to reload"));
    }
    // Logged once SIGHUP is handled: a signal sent as soon as this line appears must not find the JVM's default action.
    LOG.info("sluice listening on port {} ({} providers, {} aliases, {} tenants{})", gateway.port(),
        config.providers().size(), config.models().size(), config.tenants().size(),
        defaults == null ? "" : ", embedded defaults");
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
  private static void installSighup(Runnable onHangup) {
    try {
      sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> onHangup.run());
      // A process started with SIGHUP ignored (nohup, some supervisors) keeps it ignored: the JVM installs no handler.
      if (before == sun.misc.SignalHandler.SIG_IGN) {
        LOG.info("SIGHUP was already ignored when this process started (nohup?): it neither stops nor reloads Sluice");
      }
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      LOG.info("SIGHUP reload unavailable on this platform; file watching still applies");
    }
  }

  private static int hashKey(List<String> argv, Map<String, String> env) throws Exception {
    if (argv.size() > 2) throw new UsageException("hash-key takes one KEY (or - to read it from stdin)");
    String key = argv.size() > 1 ? argv.get(1) : null;
    if (key != null && key.startsWith("-") && !key.equals("-")) {
      throw new UsageException("hash-key: unknown option '" + key + "'");
    }
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

  private static void mockUpstream(Map<String, String> options) {
    MockUpstreamServer.Settings settings = new MockUpstreamServer.Settings(
        options.getOrDefault("--host", "127.0.0.1"),
        number(options, "--port", "9000", "a port 0..65535", Integer::parseInt, p -> p >= 0 && p <= 65535),
        number(options, "--latency", "0ms", "a duration like 20ms or 1s", Durations::parse, d -> !d.isNegative()),
        number(options, "--tps", "200", "tokens per second, an integer > 0", Integer::parseInt, t -> t > 0),
        number(options, "--error-rate", "0", "a fraction 0.0..1.0", Double::parseDouble, r -> r >= 0 && r <= 1),
        number(options, "--error-status", "500", "an HTTP status 400..599", Integer::parseInt, c -> c >= 400 && c <= 599));
    int instances = number(options, "--instances", "1", "an integer > 0", Integer::parseInt, n -> n > 0);
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    for (int i = 0; i < instances; i++) {
      int port;
      try {
        port = new MockUpstreamServer(vertx, settings).start().await();
      } catch (Exception e) {
        System.err.println("sluice mock-upstream: " + ListenFailure.describe(e, settings.host(), settings.port()));
        vertx.close();
        System.exit(1);
        return;
      }
      if (i == 0) System.out.println("sluice mock-upstream listening on " + settings.host() + ":" + port);
    }
  }

  /** An option's value parsed and checked, or a {@link UsageException} saying what was expected. */
  private static <T> T number(Map<String, String> options, String name, String fallback, String expected,
                              Function<String, T> parse, Predicate<T> valid) {
    String text = options.getOrDefault(name, fallback);
    T value;
    try {
      value = parse.apply(text.trim());
    } catch (RuntimeException e) {
      value = null;
    }
    if (value == null || !valid.test(value)) {
      throw new UsageException("mock-upstream " + name + " " + text + ": invalid value (expected: " + expected + ")");
    }
    return value;
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

  /**
   * Strict option parsing: {@code --name VALUE} or {@code --name=VALUE} for the options taking a value, bare flags
   * for the others; anything else (a typo such as {@code --confg}, a stray word) is a {@link UsageException}.
   */
  static Map<String, String> options(List<String> argv, Set<String> withValue, Set<String> flags) {
    Map<String, String> options = new java.util.LinkedHashMap<>();
    for (int i = 0; i < argv.size(); i++) {
      String arg = argv.get(i);
      int eq = arg.indexOf('=');
      String name = arg.startsWith("--") && eq > 0 ? arg.substring(0, eq) : arg;
      if (withValue.contains(name)) {
        String value;
        if (eq > 0 && arg.startsWith("--")) {
          value = arg.substring(eq + 1);
        } else if (i + 1 < argv.size() && !argv.get(i + 1).startsWith("--")) {
          value = argv.get(++i);
        } else {
          throw new UsageException("option " + name + " needs a value");
        }
        if (options.put(name, value) != null) throw new UsageException("option " + name + " given twice");
      } else if (flags.contains(arg)) {
        options.put(arg, "");
      } else {
        String known = String.join(", ", new java.util.TreeSet<>(union(withValue, flags)));
        throw new UsageException((arg.startsWith("-") ? "unknown option '" : "unknown command '") + arg + "'"
            + (known.isEmpty() ? "" : " (expected: " + known + ")"));
      }
    }
    return options;
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new java.util.HashSet<>(a);
    all.addAll(b);
    return all;
  }

  private static boolean isPort(String text) {
    return text.matches("\\d{1,5}") && Integer.parseInt(text) <= 65535;
  }

  /** The build's version (from the filtered {@code sluice-version.properties}), or {@code unknown}. */
  static String version() {
    try (java.io.InputStream in = Main.class.getResourceAsStream("/sluice-version.properties")) {
      if (in == null) return "unknown";
      java.util.Properties properties = new java.util.Properties();
      properties.load(in);
      return properties.getProperty("version", "unknown");
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }
}
