package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.TestGateway;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Meters that must exist from the start (dashboards and alerts have data before any traffic), each registered once. */
class GatewayMetersTest {
  Vertx vertx;
  PrometheusMeterRegistry registry;
  Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  @AfterEach
  void stop() {
    if (gateway != null) gateway.stop().await();
    vertx.close().await();
  }

  private void startGateway(String yaml) {
    gateway = Gateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), 0, Clock.systemUTC(), registry).await();
  }

  private Gauge gauge(String name, String tag, String value) {
    return registry.find(name).tag(tag, value).gauge();
  }

  @Test
  void budgetGaugesArePresentFromTheStartForEveryTenantWithABudget() throws Exception {
    startGateway(TestGateway.yaml("http://127.0.0.1:9/v1", "")
        .replace("  - id: acme\n", "  - id: acme\n    budget: { daily-usd: 5, monthly-usd: 100 }\n"));
    Await.until(vertx, Duration.ofSeconds(10), "acme's budget gauges",
        () -> gauge("llm_budget_remaining_usd", "tenant", "acme") != null && gauge("llm_budget_limit_usd", "tenant", "acme") != null);
    assertThat(gauge("llm_budget_remaining_usd", "tenant", "acme").value()).isEqualTo(5.0);
    assertThat(gauge("llm_budget_limit_usd", "tenant", "acme").value()).isEqualTo(5.0);
    assertThat(gauge("llm_budget_remaining_usd", "tenant", "beta")).as("beta has no budget").isNull();
  }

  @Test
  void budgetGaugesAppearForATenantWhoseBudgetArrivesWithAReload() throws Exception {
    String yaml = TestGateway.yaml("http://127.0.0.1:9/v1", "");
    startGateway(yaml);
    gateway.apply(ConfigLoader.parse(yaml.replace("    models: [ text-embedding-3-small ]\n",
        "    models: [ text-embedding-3-small ]\n    budget: { monthly-usd: 30 }\n"), Map.of()));
    Await.until(vertx, Duration.ofSeconds(10), "beta's budget gauge after the reload",
        () -> gauge("llm_budget_remaining_usd", "tenant", "beta") != null);
    assertThat(gauge("llm_budget_remaining_usd", "tenant", "beta").value()).isEqualTo(30.0);
  }

  @Test
  void aliasesSharingADeploymentRegisterItsCircuitGaugeOnce() throws Exception {
    String yaml = TestGateway.yaml("http://127.0.0.1:9/v1", "").replace(
        "  text-embedding-3-small: { deployments: [ { provider: fake, model: upstream-embed } ] }\n",
        "  text-embedding-3-small: { deployments: [ { provider: fake, model: upstream-embed } ] }\n"
            + "  mini-again: { deployments: [ { provider: fake, model: upstream-mini } ] }\n");
    try (LogCapture log = LogCapture.start(Level.WARN, "io.micrometer")) {
      startGateway(yaml);
      assertThat(registry.find("llm_circuit_state").gauges()).hasSize(2);
      assertThat(log.lines()).noneSatisfy(line -> assertThat(line.text()).contains("already registered"));
    }
  }
}
