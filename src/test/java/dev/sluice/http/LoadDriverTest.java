package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** load-tests/: the Node load driver runs against a gateway and fails on thresholds; the k6 script parses. */
class LoadDriverTest {
  static final Path PROJECT = Path.of("").toAbsolutePath();
  Vertx vertx;
  TestGateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    String yaml = """
        server: { port: 0, instances: 1 }
        security: { key-pepper: "%s" }
        providers:
          mock: { type: mock, latency: 5ms, tokens-per-second: 5000 }
        models:
          mock: { deployments: [ { provider: mock, model: mock } ] }
          broken: { deployments: [ { provider: mock, model: "mock@status=500" } ] }
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
        resilience: { max-attempts: 1 }
        """.formatted(TestGateway.PEPPER, TestGateway.digest(TestGateway.KEY));
    gateway = TestGateway.startYaml(vertx, yaml);
  }

  @AfterEach
  void stop() {
    gateway.close();
    vertx.close().await();
  }

  NodeSdkCompatibilityTest.Result drive(String model, String... thresholds) throws Exception {
    List<String> command = new ArrayList<>(List.of("node", "load-tests/drive.mjs", "--url", gateway.baseUrl(),
        "--key", TestGateway.KEY, "--model", model, "--rate", "30", "--duration", "2", "--stream", "0.5"));
    command.addAll(List.of(thresholds));
    return NodeSdkCompatibilityTest.run(command, PROJECT, Map.of(), 60);
  }

  static JsonObject summary(String output) {
    String line = output.lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow(
        () -> new AssertionError("no RESULT line in:\n" + output));
    return new JsonObject(line.substring("RESULT ".length()));
  }

  @Test
  void aHealthyGatewayPassesTheThresholdsWithEveryStreamComplete() throws Exception {
    NodeSdkCompatibilityTest.Result result = drive("mock", "--max-error-rate", "0", "--max-p99-ms", "60000");
    assertThat(result.exit()).as(result.output()).isZero();
    JsonObject summary = summary(result.output());
    assertThat(summary.getInteger("requests")).isEqualTo(60);
    assertThat(summary.getInteger("ok")).isEqualTo(60);
    assertThat(summary.getJsonObject("ttft_ms").getInteger("streams")).isPositive();
  }

  @Test
  void failingRequestsBreakTheErrorThresholdAndTheExitCode() throws Exception {
    NodeSdkCompatibilityTest.Result result = drive("broken", "--max-error-rate", "0.01");
    assertThat(result.exit()).as(result.output()).isEqualTo(1);
    JsonObject summary = summary(result.output());
    assertThat(summary.getInteger("ok")).isZero();
    assertThat(summary.getJsonArray("thresholds_failed").getString(0)).startsWith("error rate 1");
  }

  @Test
  void theK6ScriptIsValidJavaScript() throws Exception {
    NodeSdkCompatibilityTest.Result check = NodeSdkCompatibilityTest.run(
        List.of("node", "--check", "load-tests/k6/sluice.js"), PROJECT, Map.of(), 30);
    assertThat(check.exit()).as(check.output()).isZero();
  }
}
