package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.SharedRedis;
import dev.sluice.testing.TestGateway;
import dev.sluice.usage.UsageEvent;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The gateway owns request identity: a client's {@code x-request-id} is echoed and logged, never used as the key of
 * an in-flight lease or a ledger booking, so reusing one cannot widen a concurrency cap or hide spend.
 */
class RequestIdentityTest extends GatewayTest {
  @RegisterExtension
  static final SharedRedis redisServer = new SharedRedis();
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final List<UsageEvent> events = new CopyOnWriteArrayList<>();
  final ExecutorService pool = Executors.newFixedThreadPool(24);

  /** Each test starts its own gateway: none before it. */
  @Override
  protected TestGateway startGateway() {
    return null;
  }

  @BeforeEach
  void start() throws Exception {
    vertx.eventBus().<UsageEvent>consumer(UsageEvent.ADDRESS, m -> events.add(m.body())).completion().await();
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  void startGateway(boolean redis, String extra) {
    String yaml = TestGateway.yaml(upstream.baseUrl(),
        (redis ? "redis: { url: \"" + redisServer.url() + "\" }\n" : "") + extra,
        TestGateway.DEFAULT_SERVER, "{ connect: 5s, headers: 20s, first-token: 20s, idle: 20s, total: 20s }")
        .replace("max-connections: 8", "max-connections: 64").replace("max-wait-queue: 4", "max-wait-queue: 64");
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), Clock.systemUTC(), registry);
  }

  HttpResponse<String> post(String clientId) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
        .timeout(Duration.ofSeconds(20)).header("content-type", "application/json")
        .header("authorization", "Bearer " + TestGateway.KEY).header("x-request-id", clientId)
        .POST(HttpRequest.BodyPublishers.ofString(CHAT)).build();
    try {
      return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @ParameterizedTest(name = "redis={0}, shared client id={1}")
  @CsvSource({"false, true", "true, true", "false, false", "true, false"})
  void twentyConcurrentRequestsAgainstMaxInFlightFourAdmitExactlyFourWhateverTheirIds(boolean redis, boolean shared)
      throws Exception {
    startGateway(redis, "limits: { defaults: { max-in-flight: 4 } }");
    CompletableFuture<Void> gate = new CompletableFuture<>();
    upstream.always(ex -> {
      Context context = ex.vertx.getOrCreateContext();
      gate.thenRun(() -> context.runOnContext(v -> Scripts.chat("Hello from the fake upstream.").play(ex)));
    });
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String id = shared ? "one-id-for-all" : "id-" + i;
      calls.add(CompletableFuture.supplyAsync(() -> post(id), pool));
    }
    Await.until(vertx, Duration.ofSeconds(15), "16 of 20 answered and 4 at the upstream",
        () -> calls.stream().filter(CompletableFuture::isDone).count() >= 16 && upstream.requestCount() >= 4);
    assertThat(calls.stream().filter(CompletableFuture::isDone).count()).as("answered while 4 are held").isEqualTo(16);
    List<HttpResponse<String>> refused = calls.stream().filter(CompletableFuture::isDone).map(CompletableFuture::join).toList();
    for (HttpResponse<String> response : refused) {
      assertThat(response.statusCode()).as(response.body()).isEqualTo(429);
      assertThat(new JsonObject(response.body()).getJsonObject("error").getString("code")).isEqualTo("concurrency_limit_exceeded");
    }
    assertThat(upstream.requestCount()).as("admitted").isEqualTo(4);
    gate.complete(null);
    for (CompletableFuture<HttpResponse<String>> call : calls) assertThat(call.get().statusCode()).isIn(200, 429);
    assertThat(calls.stream().filter(c -> c.join().statusCode() == 200).count()).isEqualTo(4);
  }

  @ParameterizedTest(name = "redis={0}")
  @ValueSource(booleans = {false, true})
  void fiftyRequestsSharingOneClientIdAreBookedFiftyTimes(boolean redis) throws Exception {
    startGateway(redis, "pricing: { upstream-mini: { input: 1.0, output: 2.0 } }");
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) calls.add(CompletableFuture.supplyAsync(() -> post("reused-7"), pool));
    BigDecimal charged = BigDecimal.ZERO;
    Set<String> ourIds = new HashSet<>();
    for (CompletableFuture<HttpResponse<String>> call : calls) {
      HttpResponse<String> response = call.get();
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.headers().firstValue("x-client-request-id")).hasValue("reused-7");
      ourIds.add(response.headers().firstValue("x-request-id").orElseThrow());
      charged = charged.add(new BigDecimal(response.headers().firstValue("x-sluice-cost-usd").orElseThrow()));
    }
    assertThat(ourIds).as("one gateway id per request").hasSize(50).allMatch(id -> id.matches("req_[0-9a-f]{24}"));
    double expected = charged.doubleValue();
    assertThat(expected).as("50 × (7 × $1 + 5 × $2 per 1M)").isCloseTo(50 * 17e-6, org.assertj.core.data.Offset.offset(1e-12));

    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    Await.until(vertx, Duration.ofSeconds(10), "ledger books all 50",
        () -> Math.abs(gateway.gateway.ledger().spend("acme", today).await().dayUsd() - expected) < 1e-12);
    Await.until(vertx, Duration.ofSeconds(10), "llm_cost_usd_total counts all 50",
        () -> Math.abs(registry.get("llm_cost_usd_total").tag("tenant", "acme").counter().count() - expected) < 1e-12);
    assertThat(events).hasSize(50);
    assertThat(events).allMatch(e -> "reused-7".equals(e.clientRequestId()));
    assertThat(events.stream().map(UsageEvent::requestId).distinct().toList()).containsExactlyInAnyOrderElementsOf(ourIds);
    assertThat(events.get(0).toJson().getString("client_request_id")).isEqualTo("reused-7");
  }
}
