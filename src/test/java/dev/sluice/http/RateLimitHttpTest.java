package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Gate;
import dev.sluice.testing.Http;
import dev.sluice.testing.ManualClock;
import dev.sluice.testing.SharedRedis;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Rate limits and budgets seen through HTTP: status, envelope, headers, and no upstream call when refused. */
class RateLimitHttpTest {
  @RegisterExtension
  static final SharedRedis redisServer = new SharedRedis();
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  final List<Vertx> vertxes = new ArrayList<>();
  final List<TestGateway> gateways = new ArrayList<>();
  final ManualClock clock = new ManualClock(1_800_000_000_000L);
  final ExecutorService pool = Executors.newFixedThreadPool(64);
  FakeUpstream upstream;

  @BeforeEach
  void start() throws Exception {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    upstream = FakeUpstream.start(vertx);
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
    gateways.forEach(TestGateway::close);
    upstream.close();
    vertxes.forEach(v -> v.close().await());
  }

  /** A gateway in its own Vertx (like a separate replica), with {@code extra} YAML appended to the test config. */
  TestGateway gateway(String extra) {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    SluiceConfig config = ConfigLoader.parse(yaml(extra), Map.of());
    TestGateway gateway = TestGateway.start(vertx, config, clock);
    gateways.add(gateway);
    return gateway;
  }

  /** The test config with room for 64 concurrent upstream calls (a cold pool queues requests while it connects). */
  String yaml(String extra) {
    return TestGateway.yaml(upstream.baseUrl(), extra).replace("max-connections: 8", "max-connections: 64")
        .replace("max-wait-queue: 4", "max-wait-queue: 64");
  }

  List<HttpResponse<String>> concurrently(int count, java.util.function.IntFunction<String> urlFor, String body) throws Exception {
    List<HttpResponse<String>> out = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> call : launch(count, urlFor, body)) out.add(call.get());
    return out;
  }

  /**
   * {@link #concurrently} while the upstream holds every admitted request: the gate opens only once each request has
   * either reached the upstream or been refused, so no admitted request settles (and gives back its reservation)
   * while others are still being decided, however slowly a loaded machine runs them.
   */
  List<HttpResponse<String>> concurrentlyWhileAdmittedAreHeld(int count, java.util.function.IntFunction<String> urlFor,
                                                             String body) throws Exception {
    Gate gate = new Gate();
    upstream.always(gate.holding(Scripts.chat("Admitted.")));
    List<CompletableFuture<HttpResponse<String>>> calls = launch(count, urlFor, body);
    Await.until(vertxes.get(0), Duration.ofSeconds(30), "every request admitted or refused",
        () -> upstream.requestCount() + calls.stream().filter(CompletableFuture::isDone).count() == count);
    gate.open();
    List<HttpResponse<String>> out = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> call : calls) out.add(call.get());
    return out;
  }

  List<CompletableFuture<HttpResponse<String>>> launch(int count, java.util.function.IntFunction<String> urlFor, String body) {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String url = urlFor.apply(i);
      calls.add(CompletableFuture.supplyAsync(() -> {
        try {
          return Http.post(url, TestGateway.KEY, body);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, pool));
    }
    return calls;
  }

  static long count(List<HttpResponse<String>> responses, int status) {
    return responses.stream().filter(r -> r.statusCode() == status).count();
  }

  static JsonObject error(HttpResponse<String> response) {
    return new JsonObject(response.body()).getJsonObject("error");
  }

  @Test
  void eleventhOfTenPerTenSecondsIsA429WithHeadersAndNoUpstreamCall() throws Exception {
    TestGateway gateway = gateway("limits: { defaults: { requests-per-minute: 60, request-burst: 10 } }");
    List<HttpResponse<String>> first = concurrently(10, i -> gateway.baseUrl() + "/chat/completions", CHAT);
    assertThat(count(first, 200)).as(first.stream().map(r -> r.statusCode() + " " + r.body()).toList().toString()).isEqualTo(10);
    HttpResponse<String> eleventh = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT);
    assertThat(eleventh.statusCode()).isEqualTo(429);
    assertThat(error(eleventh).getString("type")).isEqualTo("requests");
    assertThat(error(eleventh).getString("code")).isEqualTo("rate_limit_exceeded");
    assertThat(eleventh.headers().firstValue("retry-after")).hasValue("1");
    assertThat(eleventh.headers().firstValue("retry-after-ms")).hasValue("1000");
    assertThat(eleventh.headers().firstValue("x-ratelimit-limit-requests")).hasValue("10");
    assertThat(eleventh.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
    assertThat(eleventh.headers().firstValue("x-ratelimit-reset-requests")).hasValue("10s");
    assertThat(upstream.requestCount()).isEqualTo(10);

    HttpResponse<String> otherTenant = Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY,
        "{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}");
    assertThat(otherTenant.statusCode()).as("tenant beta has its own bucket").isEqualTo(200);

    clock.advanceMillis(1000);
    HttpResponse<String> refilled = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT);
    assertThat(refilled.statusCode()).isEqualTo(200);
    assertThat(refilled.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
  }

  @Test
  void twoReplicasSharingRedisAdmitExactlyTheLimit() throws Exception {
    String redis = "redis: { url: \"" + redisServer.url() + "\", expected-replicas: 2 }\n"
        + "limits: { defaults: { requests-per-minute: 20 } }";
    TestGateway a = gateway(redis);
    TestGateway b = gateway(redis);
    List<HttpResponse<String>> responses = concurrently(50,
        i -> (i % 2 == 0 ? a : b).baseUrl() + "/chat/completions", CHAT);
    assertThat(count(responses, 200)).isEqualTo(20);
    assertThat(count(responses, 429)).as(responses.stream().map(r -> r.statusCode() + " " + r.body()).distinct().toList().toString()).isEqualTo(30);
    assertThat(upstream.requestCount()).isEqualTo(20);
  }

  @Test
  void twoReplicasSharingRedisNeverExceedTheTokenLimit() throws Exception {
    // each request reserves its prompt (~8 tokens) + max_tokens 100; 1000 tokens/min fit 9 of them
    String redis = "redis: { url: \"" + redisServer.url() + "\" }\n"
        + "limits: { defaults: { tokens-per-minute: 1000 } }";
    TestGateway a = gateway(redis);
    TestGateway b = gateway(redis);
    String body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    List<HttpResponse<String>> responses = concurrentlyWhileAdmittedAreHeld(30, i -> (i % 2 == 0 ? a : b).baseUrl() + "/chat/completions", body);
    long refused = count(responses, 429);
    assertThat(responses.stream().filter(r -> r.statusCode() == 429).map(r -> error(r).getString("type")))
        .containsOnly("tokens");
    assertThat(30 - refused).as("admitted").isEqualTo(9);
  }

  @Test
  void unusedReservedTokensAreReturnedWhenTheRequestEnds() throws Exception {
    TestGateway gateway = gateway("limits: { defaults: { tokens-per-minute: 5000 } }");
    String body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    HttpResponse<String> first = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
    assertThat(first.statusCode()).isEqualTo(200);
    long reservedView = Long.parseLong(first.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
    assertThat(reservedView).as("reservation = prompt estimate + 1000").isLessThan(4000);
    // the fake reports usage 7 prompt + 5 completion = 12: everything else comes back
    HttpResponse<String> second = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
    long afterSettlement = Long.parseLong(second.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
    assertThat(afterSettlement).isEqualTo(reservedView - 12);
  }

  @Test
  void requestLargerThanTheWholeBucketIsNotRetryable() throws Exception {
    TestGateway gateway = gateway("limits: { defaults: { tokens-per-minute: 500 } }");
    String body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(response.headers().firstValue("x-should-retry")).hasValue("false");
    assertThat(error(response).getString("type")).isEqualTo("tokens");
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void inFlightCapRefusesWithConcurrencyCodeAndFreesTheSlotOnEveryExit() throws Exception {
    // alias "impatient" has a 1 s total timeout for the hang; every other call keeps the far-away test timeouts
    String yaml = yaml("limits: { defaults: { max-in-flight: 1 } }").replace("models:\n",
        "models:\n  impatient: { deployments: [ { provider: fake, model: upstream-mini, timeouts: { total: 1s } } ] }\n");
    TestGateway gateway = TestGateway.start(newVertx(), ConfigLoader.parse(yaml, Map.of()), clock);
    gateways.add(gateway);
    String url = gateway.baseUrl() + "/chat/completions";
    upstream.next(Scripts.error(500, "server_error", null, "boom"));
    assertThat(Http.post(url, TestGateway.KEY, CHAT).statusCode()).isEqualTo(503);
    upstream.next(Scripts.hang());
    assertThat(Http.post(url, TestGateway.KEY, CHAT.replace("gpt-4o-mini", "impatient")).statusCode())
        .as("total timeout").isEqualTo(504);
    upstream.next(Scripts.raw(200, "application/json", "{not json"));
    assertThat(Http.post(url, TestGateway.KEY, CHAT).statusCode()).isEqualTo(502);
    assertThat(Http.post(url, TestGateway.KEY, "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
        .statusCode()).isEqualTo(404);
    assertThat(Http.post(url, TestGateway.KEY, CHAT).statusCode()).as("slot free after every failure").isEqualTo(200);

    Gate gate = new Gate();
    upstream.next(gate.holding(Scripts.chat("Held until the second was refused.")));
    CompletableFuture<HttpResponse<String>> holding = CompletableFuture.supplyAsync(() -> {
      try {
        return Http.post(url, TestGateway.KEY, CHAT);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, pool);
    upstream.awaitRequests(5, 20_000);
    HttpResponse<String> second = Http.post(url, TestGateway.KEY, CHAT);
    assertThat(second.statusCode()).isEqualTo(429);
    assertThat(error(second).getString("code")).isEqualTo("concurrency_limit_exceeded");
    gate.open();
    assertThat(holding.get().statusCode()).isEqualTo(200);
  }

  @Test
  void exhaustedBudgetIsInsufficientQuotaAndNotRetryable() throws Exception {
    String yaml = yaml("pricing: { upstream-mini: { input: 1000, output: 1000 } }")
        .replace("keys: [ { id: acme-key-1,", "budget: { daily-usd: 1.0 }\n    keys: [ { id: acme-key-1,");
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    TestGateway gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), clock);
    gateways.add(gateway);
    // worst case: (~8 prompt + 100 output) tokens × $1000 per 1M ≈ $0.108, under the $1 cap
    String body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    int ok = 0;
    HttpResponse<String> last = null;
    for (int i = 0; i < 200 && (last == null || last.statusCode() == 200); i++) {
      last = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
      if (last.statusCode() == 200) ok++;
    }
    // each settles at 12 tokens × $0.001 = $0.012, so the day's $1 lasts ~75–83 requests, never more
    assertThat(ok).isBetween(75, 84);
    assertThat(last.statusCode()).isEqualTo(429);
    assertThat(error(last).getString("code")).isEqualTo("insufficient_quota");
    assertThat(last.headers().firstValue("x-should-retry")).hasValue("false");
    assertThat(upstream.requestCount()).isEqualTo(ok);
  }

  @Test
  void failClosedTenantGets503WhileRedisIsDown() throws Exception {
    String yaml = yaml("redis: { url: \"redis://127.0.0.1:1\", command-timeout: 100ms }\n"
        + "limits: { defaults: { requests-per-minute: 100 } }")
        .replace("keys: [ { id: acme-key-1,", "on-redis-failure: fail-closed\n    keys: [ { id: acme-key-1,");
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    TestGateway gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), clock);
    gateways.add(gateway);
    HttpResponse<String> strict = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT);
    assertThat(strict.statusCode()).isEqualTo(503);
    assertThat(error(strict).getString("code")).isEqualTo("rate_limiter_unavailable");
    assertThat(strict.headers().firstValue("retry-after")).hasValue("1");
    HttpResponse<String> open = Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY,
        "{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}");
    assertThat(open.statusCode()).as("fail-open tenant keeps working").isEqualTo(200);
  }

  @Test
  void promptBeyondTheContextWindowIsRejectedWithoutAnUpstreamCall() throws Exception {
    Vertx vertx = newVertx();
    String yaml = yaml("").replace("gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ] }",
        "gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ], context-window: 1000, max-output-tokens: 1000 }");
    TestGateway gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), clock);
    gateways.add(gateway);
    String body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":999,\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}";
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(error(response).getString("code")).isEqualTo("context_length_exceeded");
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void twoReplicasSharingRedisCannotOverspendABudget() throws Exception {
    // worst case per request: 100 output tokens × $10,000 per 1M = $1.00 (input free), so a $20 day admits 20
    String extra = "redis: { url: \"" + redisServer.url() + "\" }\n"
        + "pricing: { upstream-mini: { input: 0, output: 10000 } }";
    String yaml = yaml(extra).replace("keys: [ { id: acme-key-1,", "budget: { daily-usd: 20 }\n    keys: [ { id: acme-key-1,");
    TestGateway a = TestGateway.start(newVertx(), ConfigLoader.parse(yaml, Map.of()), clock);
    TestGateway b = TestGateway.start(newVertx(), ConfigLoader.parse(yaml, Map.of()), clock);
    gateways.add(a);
    gateways.add(b);
    String body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    // nobody settles while the others reserve
    List<HttpResponse<String>> responses = concurrentlyWhileAdmittedAreHeld(50, i -> (i % 2 == 0 ? a : b).baseUrl() + "/chat/completions", body);
    assertThat(count(responses, 429)).as(responses.stream().map(r -> r.statusCode() + " " + r.body()).distinct().toList().toString()).isEqualTo(30);
    assertThat(responses.stream().filter(r -> r.statusCode() == 429).map(r -> error(r).getString("code")))
        .containsOnly("insufficient_quota");
    assertThat(upstream.requestCount()).isEqualTo(20);
  }

  Vertx newVertx() {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    return vertx;
  }
}
