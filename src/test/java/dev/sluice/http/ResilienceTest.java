package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Gate;
import dev.sluice.testing.Http;
import dev.sluice.testing.ManualClock;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Retries, fallback, cool-downs and breakers. The gateway runs on
 * a {@link ManualClock}: rest periods and open breakers last until a test moves the clock, however slowly a loaded
 * machine runs it. The primary's timeouts are far away except where a test is about one.
 */
class ResilienceTest {
  static final String ADMIN_TOKEN = "admin-secret-token-1234567890";
  static final String CHAT = "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  Vertx vertx;
  FakeUpstream primary;
  FakeUpstream backup;
  TestGateway gateway;
  final ManualClock clock = new ManualClock(1_000_000);
  final ExecutorService pool = Executors.newFixedThreadPool(32);

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    primary = FakeUpstream.start(vertx);
    backup = FakeUpstream.start(vertx);
    backup.always(Scripts.chat("From the backup."));
    gateway = start(primary.baseUrl(), clock);
  }

  TestGateway start(String primaryUrl, java.time.Clock clock) {
    return start(primaryUrl, clock, TestGateway.DEFAULT_TIMEOUTS);
  }

  TestGateway start(String primaryUrl, java.time.Clock clock, String primaryTimeouts) {
    String yaml = """
        server: { port: 0, instances: 1, admin-port: 0, admin-token: "%s" }
        security: { key-pepper: "%s" }
        providers:
          primary:
            type: openai-compatible
            base-url: %s
            max-connections: 200
            timeouts: %s
          backup:
            type: openai-compatible
            base-url: %s
            max-connections: 200
        models:
          gpt-4o-mini: { deployments: [ { provider: primary, model: p-mini }, { provider: backup, model: b-mini } ] }
          solo: { deployments: [ { provider: primary, model: p-solo } ] }
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
        resilience:
          max-attempts: 3
          backoff-base: 5ms
          backoff-cap: 50ms
          retry-after-max: 2s
          breaker-window: 4
          breaker-min-calls: 2
          breaker-failure-rate: 50
          breaker-open: 400ms
          breaker-probes: 3
          rate-limit-cooldown: 1s
          disable-for: 2s
        """.formatted(ADMIN_TOKEN, TestGateway.PEPPER, primaryUrl, primaryTimeouts, backup.baseUrl(),
        TestGateway.digest(TestGateway.KEY));
    return TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), clock);
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
    gateway.close();
    primary.close();
    backup.close();
    vertx.close().await();
  }

  HttpResponse<String> chat(String alias) throws Exception {
    return Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT.formatted(alias));
  }

  static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse("");
  }

  static FakeUpstream.Script rateLimited(String retryAfter) {
    return ex -> ex.response.setStatusCode(429).putHeader("retry-after", retryAfter).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("message", "Rate limit reached").put("type", "requests")
            .putNull("param").put("code", "rate_limit_exceeded")).encode());
  }

  @Test
  void rateLimitedPrimaryFallsBackAndRestsForItsRetryAfter() throws Exception {
    primary.next(rateLimited("1"));
    HttpResponse<String> first = chat("gpt-4o-mini");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).contains("From the backup.");
    assertThat(header(first, "x-sluice-provider")).isEqualTo("backup");
    assertThat(header(first, "x-sluice-attempts")).isEqualTo("2");
    assertThat(header(first, "x-sluice-fallback")).isEqualTo("primary>backup:rate_limited");
    assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).as("primary still resting").isEqualTo("backup");
    assertThat(primary.requestCount()).isEqualTo(1);
  }

  @Test
  void rateLimitedWithoutFallbackWaitsOutAShortRetryAfter() throws Exception {
    primary.next(rateLimited("1"));
    long start = System.nanoTime();
    HttpResponse<String> response = chat("solo");
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(header(response, "x-sluice-attempts")).isEqualTo("2");
    assertThat(elapsedMs).as("the retry-after was waited out").isGreaterThanOrEqualTo(1000L);
  }

  @Test
  void longRetryAfterWithoutFallbackIsAnImmediate429() throws Exception {
    // not waited out: the answer comes within the client's 20 s timeout, and without a second attempt
    primary.next(rateLimited("120"));
    HttpResponse<String> response = chat("solo");
    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("code")).isEqualTo("upstream_rate_limited");
    assertThat(header(response, "retry-after")).isEqualTo("60");
    assertThat(primary.requestCount()).isEqualTo(1);
  }

  @Test
  void insufficientQuotaDisablesTheDeploymentAndHidesTheProviderText() throws Exception {
    primary.next(Scripts.error(429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota, org-secret-123"));
    assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).isEqualTo("backup");
    for (int i = 0; i < 3; i++) assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).isEqualTo("backup");
    assertThat(primary.requestCount()).isEqualTo(1);
    HttpResponse<String> solo = chat("solo");
    assertThat(solo.statusCode()).isEqualTo(503);
    assertThat(solo.body()).doesNotContain("org-secret-123").doesNotContain("quota");
  }

  @ParameterizedTest
  @ValueSource(ints = {500, 502, 503, 529})
  void serverErrorsAreRetriedOnce(int status) throws Exception {
    primary.next(Scripts.error(status, "server_error", null, "transient"));
    primary.next(Scripts.chat("Second time lucky."));
    HttpResponse<String> response = chat("solo");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("Second time lucky.");
    assertThat(header(response, "x-sluice-attempts")).isEqualTo("2");
    assertThat(primary.requestCount()).isEqualTo(2);
  }

  @Test
  void breakerOpensAdmitsExactlyThreeProbesThenClosesAgain() throws Exception {
    String state = "llm_circuit_state{deployment=\"primary/p-mini\"}";
    primary.always(Scripts.error(503, "server_error", null, "down"));
    assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).isEqualTo("backup");
    assertThat(metric(state)).as("1 call: below breaker-min-calls").isZero();
    assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).isEqualTo("backup");
    assertThat(metric(state)).as("2 of 2 failed").isEqualTo(2);
    for (int i = 0; i < 5; i++) assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).isEqualTo("backup");
    assertThat(primary.requestCount()).as("open breaker: primary untouched").isEqualTo(2);
    JsonObject breaker = new JsonObject(Http.get("http://127.0.0.1:" + gateway.gateway.adminPort() + "/admin/breakers",
        ADMIN_TOKEN).body()).getJsonObject("deployments").getJsonObject("primary/p-mini");
    assertThat(breaker.getString("state")).isEqualTo("open");
    assertThat(breaker.getInteger("failed_calls")).isEqualTo(2);
    assertThat(breaker.getLong("retry_in_ms")).isEqualTo(400);

    // The open period ends; the recovered primary holds its answers until the test opens the gate, so the probes are
    // still running while the other requests arrive: exactly breaker-probes (3) of 10 concurrent requests reach it,
    // the other 7 fall back.
    Gate gate = new Gate();
    primary.always(gate.holding(Scripts.chat("Primary is back.")));
    clock.advanceMillis(401);
    int backupBefore = backup.requestCount();
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 10; i++) calls.add(CompletableFuture.supplyAsync(this::chatUnchecked, pool));
    Await.until(vertx, Duration.ofSeconds(20), "3 probes held by the primary, 7 served by the backup",
        () -> gate.held() == 3 && backup.requestCount() - backupBefore == 7);
    assertThat(primary.requestCount()).isEqualTo(5);
    assertThat(metric(state)).as("half-open while the probes run").isEqualTo(1);
    gate.open();
    int fromPrimary = 0;
    for (CompletableFuture<HttpResponse<String>> call : calls) {
      HttpResponse<String> response = call.get();
      assertThat(response.statusCode()).isEqualTo(200);
      if (header(response, "x-sluice-provider").equals("primary")) fromPrimary++;
    }
    assertThat(fromPrimary).isEqualTo(3);
    assertThat(primary.requestCount()).isEqualTo(5);
    assertThat(metric(state)).as("3 good probes close it").isZero();
    assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).isEqualTo("primary");
  }

  @Test
  void failedProbesReopenTheBreakerForAnotherOpenPeriod() throws Exception {
    primary.always(Scripts.error(503, "server_error", null, "down"));
    chat("gpt-4o-mini");
    chat("gpt-4o-mini");
    clock.advanceMillis(401);
    // probes are judged like the window: once breaker-min-calls (2) of them have failed, it opens again at once
    for (int i = 0; i < 3; i++) assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).isEqualTo("backup");
    assertThat(primary.requestCount()).as("2 failed probes, the third request not let through").isEqualTo(4);
    assertThat(metric("llm_circuit_state{deployment=\"primary/p-mini\"}")).isEqualTo(2);
    clock.advanceMillis(399);
    chat("gpt-4o-mini");
    assertThat(primary.requestCount()).as("open again for a whole period").isEqualTo(4);
    clock.advanceMillis(2);
    primary.always(Scripts.chat("Primary is back."));
    assertThat(header(chat("gpt-4o-mini"), "x-sluice-provider")).isEqualTo("primary");
  }

  HttpResponse<String> chatUnchecked() {
    try {
      return chat("gpt-4o-mini");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void everyBreakerOpenIsAFast503WithRetryAfterAndNoUpstreamCall() throws Exception {
    primary.always(Scripts.error(503, "server_error", null, "down"));
    chat("solo"); // 2 failed attempts open the breaker (the third is refused by it)
    int calls = primary.requestCount();
    // "fast" is shown by what happened, not by a stopwatch: no upstream call, no wait, the right error at once
    HttpResponse<String> response = chat("solo");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("code")).isEqualTo("upstream_unavailable");
    assertThat(header(response, "retry-after")).isEqualTo("1");
    assertThat(primary.requestCount()).isEqualTo(calls);
  }

  @Test
  void connectionRefusedFallsBackAtOnce() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    gateway.close();
    gateway = start("http://127.0.0.1:" + closedPort + "/v1", clock);
    HttpResponse<String> response = chat("gpt-4o-mini");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(header(response, "x-sluice-fallback")).isEqualTo("primary>backup:connect");
    HttpResponse<String> solo = chat("solo");
    assertThat(solo.statusCode()).isEqualTo(503);
    assertThat(solo.body()).doesNotContain("127.0.0.1").doesNotContain("Connection refused");
  }

  @Test
  void dnsFailureFallsBackAtOnceAndHidesTheHostname() throws Exception {
    gateway.close();
    gateway = start("http://primary-llm.invalid/v1", clock); // .invalid never resolves (RFC 6761)
    HttpResponse<String> response = chat("gpt-4o-mini");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(header(response, "x-sluice-fallback")).isEqualTo("primary>backup:connect");
    HttpResponse<String> solo = chat("solo");
    assertThat(solo.statusCode()).isEqualTo(503);
    assertThat(solo.body()).doesNotContain("invalid").doesNotContain("primary-llm").doesNotContain("resolve");
  }

  @Test
  void streamThatNeverGetsHeadersFallsBackAfterTheHeadersTimeout() throws Exception {
    gateway.close();
    gateway = start(primary.baseUrl(), clock, TestGateway.timeoutsWith("headers: 1s"));
    primary.next(Scripts.hang());
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("backup").endsWith("data: [DONE]\n\n");
    assertThat(header(response, "x-sluice-fallback")).isEqualTo("primary>backup:timeout");
    primary.awaitClosed(0, 20_000);
    // the primary may still bill the abandoned attempt: counted, never charged to the tenant
    assertThat(metric("llm_possible_duplicate_total{scope=\"upstream\"}")).isEqualTo(1);
  }

  @Test
  void providerAuthFailureIsA503WithoutProviderText() throws Exception {
    primary.next(Scripts.error(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-prov****1234"));
    HttpResponse<String> response = chat("solo");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body()).doesNotContain("sk-prov").doesNotContain("Incorrect API key");
  }

  @Test
  void retryStormIsBoundedByTheRetryBudgetAndTheBreaker() throws Exception {
    // the manual clock keeps the breaker open once it opened, however long the burst takes on a loaded machine
    primary.always(ex -> ex.vertx.setTimer(20, id -> Scripts.error(503, "server_error", null, "down").play(ex)));
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      calls.add(CompletableFuture.supplyAsync(() -> {
        try {
          return chat("solo");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, pool));
    }
    for (CompletableFuture<HttpResponse<String>> call : calls) {
      HttpResponse<String> response = call.get();
      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(header(response, "retry-after")).isNotEmpty();
    }
    assertThat(primary.requestCount()).as("a naive 3-attempt policy would make 300").isLessThanOrEqualTo(125);
  }

  double metric(String series) throws Exception {
    return Http.get(gateway.metricsUrl(), null).body().lines()
        .filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
        .findFirst().orElse(-1);
  }

  @Test
  void errorEventBeforeTheCommitPointFallsBackToAClean200Stream() throws Exception {
    primary.next(Scripts.frames(List.of("data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n"), 0, true));
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).doesNotContain("overloaded").doesNotContain("\"error\"").endsWith("data: [DONE]\n\n");
    assertThat(header(response, "x-sluice-fallback")).isEqualTo("primary>backup:bad_response");
    // the primary accepted the request and started a stream: it may bill it, and we called the backup as well
    assertThat(metric("llm_possible_duplicate_total{scope=\"upstream\"}")).isEqualTo(1);
  }
}
