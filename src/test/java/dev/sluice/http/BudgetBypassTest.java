package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.Http;
import dev.sluice.testing.SharedRedis;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The exact reproduction of the integer-overflow budget bypass, in memory and with Redis: once a tenant's budget is
 * spent, neither the crafted {@code max_tokens × n} that used to wrap the reservation negative nor the largest
 * in-range request gets through, the budget script keeps working, and spend never passes the budget.
 */
class BudgetBypassTest extends GatewayTest {
  @RegisterExtension
  static final SharedRedis redisServer = new SharedRedis();
  static final String CRAFTED = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":4611686019501129728,\"n\":2,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String LARGEST = "{\"model\":\"big\",\"max_tokens\":100000,\"n\":128,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String HONEST = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  final ExecutorService pool = Executors.newFixedThreadPool(32);

  /** Each test starts its own gateway: none before it. */
  @Override
  protected TestGateway startGateway() {
    return null;
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  TestGateway gateway(boolean redis) {
    // $0.001 per token on the default alias (a request settles at 12 tokens = $0.012); the dearest allowed price on
    // an alias that permits 100,000 output tokens per choice
    String extra = (redis ? "redis: { url: \"" + redisServer.url() + "\" }\n" : "")
        + "pricing: { upstream-mini: { input: 1000, output: 1000 }, upstream-big: { input: 1000000, output: 1000000 } }";
    String yaml = TestGateway.yaml(upstream.baseUrl(), extra)
        .replace("models:\n", "models:\n  big: { deployments: [ { provider: fake, model: upstream-big } ], "
            + "context-window: 200000, max-output-tokens: 100000 }\n")
        .replace("keys: [ { id: acme-key-1,", "budget: { daily-usd: 0.50 }\n    keys: [ { id: acme-key-1,")
        .replace("max-connections: 8", "max-connections: 32").replace("max-wait-queue: 4", "max-wait-queue: 32");
    return TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  @ParameterizedTest(name = "redis={0}")
  @ValueSource(booleans = {false, true})
  void spentBudgetRefusesTheCraftedOverflowAndSpendNeverPassesTheBudget(boolean redis) throws Exception {
    gateway = gateway(redis);
    String url = gateway.baseUrl() + "/chat/completions";
    BigDecimal charged = BigDecimal.ZERO;
    int admitted = 0;
    HttpResponse<String> last = null;
    for (int i = 0; i < 100 && (last == null || last.statusCode() == 200); i++) {
      last = Http.post(url, TestGateway.KEY, HONEST);
      if (last.statusCode() == 200) {
        admitted++;
        charged = charged.add(new BigDecimal(last.headers().firstValue("x-sluice-cost-usd").orElseThrow()));
      }
    }
    assertThat(last.statusCode()).as(last.body()).isEqualTo(429);
    assertThat(error(last).getString("code")).isEqualTo("insufficient_quota");
    assertThat(admitted).as("$0.50 at $0.012 each, reserved at ~$0.018").isBetween(35, 42);

    for (HttpResponse<String> crafted : concurrently(20, i -> i % 2 == 0 ? CRAFTED : CRAFTED.replace("\"n\":2", "\"n\":2,\"stream\":true"))) {
      assertThat(crafted.statusCode()).as(crafted.body()).isEqualTo(400);
      assertThat(error(crafted).getString("param")).isEqualTo("max_tokens");
      assertThat(error(crafted).getString("code")).isEqualTo("invalid_value");
    }
    for (HttpResponse<String> largest : concurrently(6, i -> LARGEST)) {
      assertThat(largest.statusCode()).as("worst case clamped to $1M, refused").isEqualTo(429);
      assertThat(error(largest).getString("code")).isEqualTo("insufficient_quota");
    }
    // neither a wrapped counter nor an opened budget breaker (whose local fallback starts empty) lets anyone through
    for (HttpResponse<String> honest : concurrently(30, i -> HONEST)) {
      assertThat(honest.statusCode()).as(honest.body()).isEqualTo(429);
      assertThat(error(honest).getString("code")).isEqualTo("insufficient_quota");
    }
    assertThat(upstream.requestCount()).isEqualTo(admitted);

    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    double expected = charged.doubleValue();
    Await.until(vertx, Duration.ofSeconds(10), "ledger books every admitted request",
        () -> Math.abs(gateway.gateway.ledger().spend("acme", today).await().dayUsd() - expected) < 1e-9);
    assertThat(gateway.gateway.ledger().spend("acme", today).await().dayUsd()).isLessThanOrEqualTo(0.50);
  }

  @ParameterizedTest(name = "redis={0}")
  @ValueSource(booleans = {false, true})
  void absurdProviderUsageIsChargedAtMostTheCeilingAndNeverWrapsTheBudget(boolean redis) throws Exception {
    gateway = gateway(redis);
    String url = gateway.baseUrl() + "/chat/completions";
    upstream.next(usage(new JsonObject().put("prompt_tokens", "7").put("completion_tokens", List.of(5))));
    HttpResponse<String> malformed = Http.post(url, TestGateway.KEY, HONEST);
    assertThat(malformed.statusCode()).as("a malformed usage object is not our failure").isEqualTo(200);
    assertThat(malformed.headers().firstValue("x-sluice-cost-usd")).hasValue("0");
    upstream.next(usage(new JsonObject().put("prompt_tokens", -1_000_000_000L).put("completion_tokens", -5)));
    assertThat(Http.post(url, TestGateway.KEY, HONEST).headers().firstValue("x-sluice-cost-usd")).as("never a refund").hasValue("0");
    upstream.next(usage(new JsonObject().put("prompt_tokens", 7).put("completion_tokens", Long.MAX_VALUE)));
    HttpResponse<String> absurd = Http.post(url, TestGateway.KEY, HONEST);
    assertThat(absurd.statusCode()).isEqualTo(200);
    assertThat(absurd.headers().firstValue("x-sluice-cost-usd")).as("the per-request ceiling").hasValue("1000000");
    // the budget counter went far over its cap, but upwards: the tenant is refused, not refunded by a wrap
    HttpResponse<String> next = Http.post(url, TestGateway.KEY, HONEST);
    assertThat(next.statusCode()).as(next.body()).isEqualTo(429);
    assertThat(error(next).getString("code")).isEqualTo("insufficient_quota");
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    Await.until(vertx, Duration.ofSeconds(10), "ledger books the ceiling",
        () -> gateway.gateway.ledger().spend("acme", today).await().dayUsd() == 1_000_000.0);
  }

  static FakeUpstream.Script usage(JsonObject usage) {
    return ex -> FakeUpstream.Scripts.json(200, FakeUpstream.Scripts.completion(ex.model(), "Hello there", "stop").put("usage", usage)).play(ex);
  }

  List<HttpResponse<String>> concurrently(int count, java.util.function.IntFunction<String> bodyFor) throws Exception {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String body = bodyFor.apply(i);
      calls.add(CompletableFuture.supplyAsync(() -> {
        try {
          return Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, pool));
    }
    List<HttpResponse<String>> out = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> call : calls) out.add(call.get());
    return out;
  }

  static JsonObject error(HttpResponse<String> response) {
    return new JsonObject(response.body()).getJsonObject("error");
  }
}
