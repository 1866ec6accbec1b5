package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Weighted load balancing among deployments of equal priority, and per-deployment max-tokens field translation. */
class RoutingTest {
  Vertx vertx;
  FakeUpstream light;
  FakeUpstream heavy;
  FakeUpstream last;
  TestGateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    light = FakeUpstream.start(vertx);
    heavy = FakeUpstream.start(vertx);
    last = FakeUpstream.start(vertx);
    String yaml = """
        server: { port: 0, instances: 1 }
        security: { key-pepper: "%s" }
        providers:
          light: { type: openai-compatible, base-url: %s }
          heavy: { type: openai-compatible, base-url: %s }
          last: { type: openai-compatible, base-url: %s }
        models:
          balanced:
            deployments:
              - { provider: light, model: m, priority: 0, weight: 1 }
              - { provider: heavy, model: m, priority: 0, weight: 3 }
              - { provider: last, model: m, priority: 1 }
          reasoning:
            deployments: [ { provider: last, model: o4-mini, max-tokens-field: max_completion_tokens } ]
          impatient:
            deployments: [ { provider: last, model: fast, timeouts: { total: 300ms } } ]
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
        """.formatted(TestGateway.PEPPER, light.baseUrl(), heavy.baseUrl(), last.baseUrl(), TestGateway.digest(TestGateway.KEY));
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  @AfterEach
  void stop() {
    gateway.close();
    light.close();
    heavy.close();
    last.close();
    vertx.close().await();
  }

  @Test
  void equalPrioritiesShareTrafficByWeightAndLowerPrioritiesWait() throws Exception {
    for (int i = 0; i < 200; i++) {
      assertThat(Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
          "{\"model\":\"balanced\",\"messages\":[{\"role\":\"user\",\"content\":\"" + i + "\"}]}").statusCode()).isEqualTo(200);
    }
    // expected 50 / 150 (binomial sd ≈ 6): bounds five deviations wide
    assertThat(light.requestCount()).isBetween(20, 80);
    assertThat(heavy.requestCount()).isEqualTo(200 - light.requestCount());
    assertThat(last.requestCount()).isZero();
  }

  @Test
  void maxTokensIsRenamedForDeploymentsThatWantMaxCompletionTokens() throws Exception {
    Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"reasoning\",\"max_tokens\":77,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(last.lastRequest().body().getInteger("max_completion_tokens")).isEqualTo(77);
    assertThat(last.lastRequest().body().containsKey("max_tokens")).isFalse();
  }

  @Test
  void aDeploymentsOwnTimeoutsReplaceItsProviders() throws Exception {
    last.always(FakeUpstream.Scripts.hang());
    long start = System.nanoTime();
    java.net.http.HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"impatient\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    // The provider's own timeouts are the defaults (headers 30 s, total 300 s), beyond the client's 20 s: a 504 at
    // all is the deployment's 300 ms total at work. Elapsed time is checked from below only (it did not fire early).
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(elapsedMs).isGreaterThanOrEqualTo(300);
  }
}
