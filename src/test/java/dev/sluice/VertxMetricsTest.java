package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import java.time.Clock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** SLUICE_VERTX_METRICS: which of Vert.x's own meters reach /metrics next to the llm_* ones. */
class VertxMetricsTest {
  @ParameterizedTest
  @CsvSource({"client, false", "all, true"})
  void upstreamClientMetersAlwaysAndServerMetersOnlyWhenAskedFor(String mode, boolean serverMeters) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Vertx.builder().with(new VertxOptions().setMetricsOptions(Main.vertxMetrics(mode)))
        .withMetrics(new MicrometerMetricsFactory(registry)).build();
    try (FakeUpstream upstream = FakeUpstream.start(vertx)) {
      Gateway gateway = Gateway.start(vertx, TestGateway.config(upstream.baseUrl()), 0, Clock.systemUTC(), registry).await();
      String base = "http://127.0.0.1:" + gateway.port();
      assertThat(Http.post(base + "/v1/chat/completions", TestGateway.KEY,
          "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").statusCode()).isEqualTo(200);
      String[] scrape = {""};
      // the llm_* meters are fed by the usage event, which is published after the response
      dev.sluice.testing.Await.until(vertx, java.time.Duration.ofSeconds(20), "usage event recorded",
          () -> (scrape[0] = Http.get("http://127.0.0.1:" + gateway.metricsPort() + "/metrics", null).body()).contains("llm_requests_total{"));
      assertThat(scrape[0]).contains("vertx_http_client_requests_total");
      assertThat(scrape[0].contains("vertx_http_server_requests_total")).isEqualTo(serverMeters);
      assertThat(scrape[0]).doesNotContain("/v1/chat/completions"); // never a path label
      assertThat(scrape[0]).as("no upstream host:port in any label").doesNotContain("127.0.0.1:").doesNotContain("pool_name");
      gateway.stop().await();
    } finally {
      vertx.close().await();
    }
  }
}
