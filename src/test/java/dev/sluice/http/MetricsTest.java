package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code /metrics} after a scripted set of requests holds exactly the expected totals, with bounded labels only. */
class MetricsTest {
  Vertx vertx;
  FakeUpstream upstream;
  TestGateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    String yaml = TestGateway.yaml(upstream.baseUrl(), "pricing: { upstream-mini: { input: 2.0, output: 8.0 } }")
        .replace("    keys: [ { id: acme-key-1,", "    cache: { enabled: true }\n    keys: [ { id: acme-key-1,")
        .replace("    keys: [ { id: beta-key-1,", "    limits: { requests-per-minute: 1 }\n    keys: [ { id: beta-key-1,");
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    vertx.close().await();
  }

  String scrape() throws Exception {
    return Http.get(gateway.metricsUrl(), null).body();
  }

  static double value(String scrape, String series) {
    return scrape.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
        .findFirst().orElse(0);
  }

  @Test
  void totalsMatchAScriptedSetOfRequests() throws Exception {
    String chat = "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"count me\"}],\"user\":\"end-user-42\"}";
    String url = gateway.baseUrl() + "/chat/completions";
    java.net.http.HttpResponse<String> first = Http.post(url, TestGateway.KEY, chat);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("x-sluice-cost-usd")).hasValue("0.000054"); // 7 × $2 + 5 × $8 per 1M
    java.net.http.HttpResponse<String> hit = Http.post(url, TestGateway.KEY, chat);
    assertThat(hit.statusCode()).isEqualTo(200);
    assertThat(hit.headers().firstValue("x-sluice-cost-usd")).hasValue("0");
    assertThat(Http.post(url, TestGateway.KEY, chat.replace("gpt-4o-mini", "no-such-model-x1")).statusCode()).isEqualTo(404);
    assertThat(Http.post(url, "sk-wrong-key-0123456789abcdefghijklmnop", chat).statusCode()).isEqualTo(401);
    String embed = "{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}";
    assertThat(Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY, embed).statusCode()).isEqualTo(200);
    assertThat(Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY, embed).statusCode()).isEqualTo(429);

    Await.until(vertx, Duration.ofSeconds(20), "six requests counted",
        () -> {
          try {
            return scrape().lines().filter(l -> l.startsWith("llm_request_duration_seconds_count")).mapToDouble(
                l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum() == 6;
          } catch (Exception e) {
            return false;
          }
        });
    String m = scrape();
    assertThat(value(m, "llm_requests_total{model=\"gpt-4o-mini\",outcome=\"ok\",provider=\"fake\",status=\"2xx\",tenant=\"acme\"}")).isEqualTo(1);
    assertThat(value(m, "llm_requests_total{model=\"gpt-4o-mini\",outcome=\"ok\",provider=\"none\",status=\"2xx\",tenant=\"acme\"}")).isEqualTo(1);
    assertThat(value(m, "llm_requests_total{model=\"none\",outcome=\"rejected\",provider=\"none\",status=\"4xx\",tenant=\"acme\"}")).isEqualTo(1);
    assertThat(value(m, "llm_requests_total{model=\"none\",outcome=\"rejected\",provider=\"none\",status=\"4xx\",tenant=\"none\"}")).isEqualTo(1);
    assertThat(value(m, "llm_tokens_total{model=\"gpt-4o-mini\",tenant=\"acme\",type=\"prompt\"}")).isEqualTo(7);
    assertThat(value(m, "llm_tokens_total{model=\"gpt-4o-mini\",tenant=\"acme\",type=\"completion\"}")).isEqualTo(5);
    // 7 × $2 + 5 × $8 per 1M tokens
    assertThat(value(m, "llm_cost_usd_total{model=\"gpt-4o-mini\",tenant=\"acme\"}")).isCloseTo(54e-6, within(1e-12));
    assertThat(value(m, "llm_cache_hits_total")).isEqualTo(1);
    assertThat(value(m, "llm_cache_tokens_saved_total{model=\"gpt-4o-mini\",tenant=\"acme\"}")).isEqualTo(12);
    assertThat(value(m, "llm_ratelimit_rejections_total{limit=\"requests\",tenant=\"beta\"}")).isEqualTo(1);
    assertThat(value(m, "llm_upstream_attempts_total{provider=\"fake\",result=\"success\"}")).isEqualTo(2);
    assertThat(value(m, "llm_inflight_requests{tenant=\"acme\"}")).isZero();
    // upstream-embed has no price: its tokens are counted as unpriced, never silently free
    assertThat(value(m, "llm_cost_unpriced_requests_total{upstream_model=\"upstream-embed\"}")).isEqualTo(1);

    assertThat(m).doesNotContain(TestGateway.KEY).doesNotContain("sk-wrong-key").doesNotContain("end-user-42")
        .doesNotContain("no-such-model-x1").doesNotContain("req_").doesNotContain(TestGateway.PROVIDER_KEY)
        .doesNotContain(TestGateway.digest(TestGateway.KEY).substring("hmac-sha256:".length()));
  }
}
