package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Http;
import dev.sluice.testing.ProviderScripts;
import dev.sluice.testing.TestGateway;
import dev.sluice.usage.UsageEvent;
import io.vertx.core.Vertx;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Golden cost of a streamed Anthropic answer with prompt-cache tokens, and a fallback billed once for the delivered
 * attempt. Prices per 1M tokens: input $0.80, cached input $0.08, cache write $1.00, output $4.00.
 */
class AnthropicCostTest {
  Vertx vertx;
  FakeUpstream openai;
  FakeUpstream anthropic;
  TestGateway gateway;
  final List<UsageEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    openai = FakeUpstream.start(vertx);
    anthropic = FakeUpstream.start(vertx);
    gateway = startGateway("60s");
    vertx.eventBus().<UsageEvent>consumer(UsageEvent.ADDRESS, m -> events.add(m.body())).completion().await();
  }

  /** The openai provider's headers timeout is short only in the test about it, whose upstream never answers. */
  TestGateway startGateway(String openaiHeadersTimeout) {
    String yaml = """
        server: { port: 0, instances: 1 }
        security: { key-pepper: "%s" }
        providers:
          openai: { type: openai-compatible, base-url: %s, timeouts: { headers: %s } }
          claude: { type: anthropic, base-url: %s, api-key: "sk-ant-test" }
        models:
          haiku: { deployments: [ { provider: claude, model: claude-3-5-haiku-latest } ] }
          mini: { deployments: [ { provider: openai, model: gpt-4o-mini }, { provider: claude, model: claude-3-5-haiku-latest } ] }
        pricing:
          claude-3-5-haiku-latest: { input: 0.80, cached-input: 0.08, cache-write: 1.00, output: 4.00 }
          gpt-4o-mini: { input: 0.15, output: 0.60 }
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
        resilience: { max-attempts: 2 }
        """.formatted(TestGateway.PEPPER, openai.baseUrl(), openaiHeadersTimeout, anthropic.rootUrl(),
        TestGateway.digest(TestGateway.KEY));
    return TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  @AfterEach
  void stop() {
    gateway.close();
    openai.close();
    anthropic.close();
    vertx.close().await();
  }

  UsageEvent eventOf(HttpResponse<String> response) throws Exception {
    String id = response.headers().firstValue("x-request-id").orElseThrow();
    Await.until(vertx, Duration.ofSeconds(20), "usage event", () -> events.stream().anyMatch(e -> e.requestId().equals(id)));
    List<UsageEvent> mine = events.stream().filter(e -> e.requestId().equals(id)).toList();
    assertThat(mine).hasSize(1);
    return mine.get(0);
  }

  @Test
  void streamedAnthropicAnswerWithCacheTokensCostsTheHandComputedAmount() throws Exception {
    // input 100 uncached, 2000 cache reads, 500 cache writes, 40 output tokens
    anthropic.next(Scripts.frames(ProviderScripts.textStream(ProviderScripts.anthropicUsage(100, 40, 500, 2000), "end_turn",
        "Cached ", "answer."), 0, true));
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"haiku\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.body()).endsWith("data: [DONE]\n\n");
    UsageEvent event = eventOf(response);
    assertThat(event.promptTokens()).isEqualTo(2600);
    assertThat(event.cachedTokens()).isEqualTo(2000);
    assertThat(event.completionTokens()).isEqualTo(40);
    // 100 × 0.80 + 2000 × 0.08 + 500 × 1.00 + 40 × 4.00 = 80 + 160 + 500 + 160 = 900 per 1M → $0.000900
    assertThat(event.costUsd()).isCloseTo(0.000900, within(1e-12));
  }

  @Test
  void fallbackIsBilledOnceForTheDeliveredAttempt() throws Exception {
    openai.always(Scripts.error(502, "server_error", null, "bad gateway"));
    anthropic.next(ProviderScripts.anthropicJson(ProviderScripts.message(
        new io.vertx.core.json.JsonArray().add(ProviderScripts.textBlock("From Claude.")), "end_turn",
        ProviderScripts.anthropicUsage(10, 5, 0, 0))));
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.statusCode()).isEqualTo(200);
    UsageEvent event = eventOf(response);
    assertThat(event.provider()).isEqualTo("claude");
    assertThat(event.attempts()).isEqualTo(2);
    assertThat(event.fallbacks()).isEqualTo("openai>claude:server_error");
    // only the delivered Claude attempt: 10 × 0.80 + 5 × 4.00 = 28 per 1M
    assertThat(event.costUsd()).isCloseTo(0.000028, within(1e-12));
    assertThat(event.unbilled()).as("a 502 was not processed: nothing for the provider to bill").isEmpty();
  }

  @Test
  void anAttemptAbandonedAfterTheProviderAcceptedItIsTrackedAsUnbilledCost() throws Exception {
    gateway.close();
    gateway = startGateway("300ms");
    openai.next(Scripts.hang()); // accepted, then no headers: the provider may still run and bill it
    anthropic.next(Scripts.frames(ProviderScripts.textStream(ProviderScripts.anthropicUsage(10, 5, 0, 0), "end_turn",
        "From ", "Claude."), 0, true));
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.body()).contains("Claude.").endsWith("data: [DONE]\n\n");
    UsageEvent event = eventOf(response);
    assertThat(event.fallbacks()).isEqualTo("openai>claude:timeout");
    assertThat(event.costUsd()).as("the tenant pays the delivered attempt only").isCloseTo(0.000028, within(1e-12));
    long prompt = dev.sluice.usage.TokenCounter.shared().countMessages(
        new io.vertx.core.json.JsonArray().add(new io.vertx.core.json.JsonObject().put("role", "user").put("content", "hi")),
        "gpt-4o-mini");
    assertThat(prompt).isEqualTo(8); // 3 per message + "user" + "hi" + 3 priming
    assertThat(event.unbilled()).containsExactly(new UsageEvent.UnbilledAttempt("openai", "gpt-4o-mini", 8 * 0.15 / 1e6));
    String metrics = Http.get(gateway.metricsUrl(), null).body();
    assertThat(metrics).contains("llm_upstream_unbilled_attempts_total{provider=\"openai\"} 1.0")
        .contains("llm_upstream_unbilled_cost_usd_total{provider=\"openai\",tenant=\"acme\"} 1.2E-6");
  }
}
