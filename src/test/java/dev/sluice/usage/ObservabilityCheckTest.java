package dev.sluice.usage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.Http;
import dev.sluice.testing.RedisServer;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian package, loopback only, bounded) scrapes a gateway under a short scripted load; every
 * PromQL expression of the Grafana dashboard must return data and every alert rule must be valid and evaluate.
 * Fails loudly when {@code prometheus} or {@code promtool} is missing ({@code .ci/run} installs them).
 */
class ObservabilityCheckTest {
  static final Path DASHBOARD = Path.of("deploy/grafana/sluice-dashboard.json");
  static final Path ALERTS = Path.of("deploy/prometheus/sluice-alerts.yml");

  Vertx vertx;
  RedisServer redis;
  TestGateway gateway;
  Process prometheus;
  final ExecutorService load = Executors.newFixedThreadPool(2);
  final AtomicBoolean loading = new AtomicBoolean(true);

  @TempDir
  Path dir;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    redis = RedisServer.start();
    String yaml = """
        server: { port: 0, instances: 1 }
        security: { key-pepper: "%s" }
        redis: { url: "%s" }
        providers:
          mock: { type: mock, latency: 5ms, tokens-per-second: 2000 }
          flaky: { type: mock, latency: 1ms }
          laggy: { type: mock, latency: 10m, timeouts: { headers: 100ms } }
        models:
          gpt-4o-mini: { deployments: [ { provider: mock, model: mock } ] }
          fallback: { deployments: [ { provider: flaky, model: "mock@status=503" }, { provider: mock, model: mock } ] }
          text-embedding-3-small: { deployments: [ { provider: mock, model: mock-embed } ] }
          broken: { deployments: [ { provider: mock, model: "mock@status=500" } ] }
          laggy-fallback: { deployments: [ { provider: laggy, model: mock-laggy }, { provider: mock, model: mock } ] }
        pricing:
          mock: { input: 1.0, output: 2.0 }
          mock-embed: { input: 0.1 }
          mock-laggy: { input: 1.0, output: 2.0 }
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
            cache: { enabled: true }
            budget: { daily-usd: 100 }
            limits: { requests-per-minute: 100000 }
          - id: beta
            keys: [ { id: beta-key-1, digest: "%s" } ]
            limits: { requests-per-minute: 1 }
        resilience: { breaker-window: 100, breaker-min-calls: 100, breaker-failure-rate: 100 }
        """.formatted(TestGateway.PEPPER, redis.url(), TestGateway.digest(TestGateway.KEY), TestGateway.digest(TestGateway.OTHER_KEY));
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  @AfterEach
  void stop() throws Exception {
    loading.set(false);
    load.shutdownNow();
    load.awaitTermination(10, TimeUnit.SECONDS);
    if (prometheus != null) {
      prometheus.destroy();
      if (!prometheus.waitFor(10, TimeUnit.SECONDS)) prometheus.destroyForcibly();
    }
    gateway.close();
    redis.close();
    vertx.close().await();
  }

  void scriptedLoad() {
    String base = gateway.baseUrl();
    int i = 0;
    while (loading.get() && i < 2000) {
      try {
        Http.post(base + "/chat/completions", TestGateway.KEY,
            "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"q" + (i % 3) + "\"}]}");
        Http.post(base + "/chat/completions", TestGateway.KEY,
            "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"s" + i + "\"}]}");
        Http.post(base + "/embeddings", TestGateway.KEY, "{\"model\":\"text-embedding-3-small\",\"input\":\"e" + i + "\"}");
        Http.post(base + "/chat/completions", TestGateway.KEY, "{\"model\":\"broken\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        Http.post(base + "/chat/completions", TestGateway.KEY, "{\"model\":\"fallback\",\"messages\":[{\"role\":\"user\",\"content\":\"f\"}]}");
        // a stream whose first attempt times out after the provider accepted it: unbilled provider cost
        Http.post(base + "/chat/completions", TestGateway.KEY,
            "{\"model\":\"laggy-fallback\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"l\"}]}");
        Http.post(base + "/embeddings", TestGateway.OTHER_KEY, "{\"model\":\"text-embedding-3-small\",\"input\":\"b\"}");
      } catch (Exception e) {
        return;
      }
      i++;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  JsonObject query(int port, String expr) throws Exception {
    String url = "http://127.0.0.1:" + port + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8);
    return new JsonObject(Http.get(url, null).body());
  }

  static List<String> dashboardExpressions() throws IOException {
    List<String> out = new ArrayList<>();
    JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
    for (Object p : dashboard.getJsonArray("panels")) {
      for (Object t : ((JsonObject) p).getJsonArray("targets")) out.add(((JsonObject) t).getString("expr"));
    }
    return out;
  }

  static List<String> alertExpressions() throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(ALERTS)) {
      String trimmed = line.trim();
      if (trimmed.startsWith("expr:")) out.add(trimmed.substring(5).trim());
    }
    return out;
  }

  @Test
  void everyDashboardPanelHasDataAndEveryAlertRuleEvaluates() throws Exception {
    Process check = new ProcessBuilder("promtool", "check", "rules", ALERTS.toString()).redirectErrorStream(true).start();
    String checkOutput = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(check.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(check.exitValue()).as(checkOutput).isZero();

    load.submit(this::scriptedLoad);
    int promPort = freePort();
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, """
        global: { scrape_interval: 1s, evaluation_interval: 1s }
        rule_files: [ "%s" ]
        scrape_configs:
          - job_name: sluice
            metrics_path: /metrics
            static_configs: [ { targets: [ "127.0.0.1:%d" ] } ]
        """.formatted(ALERTS.toAbsolutePath(), gateway.gateway.metricsPort()));
    prometheus = new ProcessBuilder("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
        "--web.listen-address=127.0.0.1:" + promPort, "--log.level=warn")
        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();

    Await.until(vertx, Duration.ofSeconds(60), "prometheus scraped sluice at least 6 times", () -> {
      try {
        JsonArray result = query(promPort, "count_over_time(up{job=\"sluice\"}[1m])").getJsonObject("data").getJsonArray("result");
        return !result.isEmpty() && Double.parseDouble(result.getJsonObject(0).getJsonArray("value").getString(1)) >= 6;
      } catch (Exception e) {
        return false;
      }
    });
    assertThat(query(promPort, "up{job=\"sluice\"}").getJsonObject("data").getJsonArray("result").getJsonObject(0)
        .getJsonArray("value").getString(1)).isEqualTo("1");

    List<String> empty = new ArrayList<>();
    for (String expr : dashboardExpressions()) {
      JsonObject answer = query(promPort, expr);
      assertThat(answer.getString("status")).as(expr + " → " + answer.encode()).isEqualTo("success");
      if (answer.getJsonObject("data").getJsonArray("result").isEmpty()) empty.add(expr);
    }
    assertThat(empty).as("dashboard expressions without data").isEmpty();
    for (String expr : alertExpressions()) {
      assertThat(query(promPort, expr).getString("status")).as(expr).isEqualTo("success");
    }
    JsonObject rules = new JsonObject(Http.get("http://127.0.0.1:" + promPort + "/api/v1/rules", null).body());
    for (Object group : rules.getJsonObject("data").getJsonArray("groups")) {
      for (Object rule : ((JsonObject) group).getJsonArray("rules")) {
        assertThat(((JsonObject) rule).getString("health")).as(((JsonObject) rule).getString("name")).isIn("ok", "unknown");
      }
    }
  }
}
