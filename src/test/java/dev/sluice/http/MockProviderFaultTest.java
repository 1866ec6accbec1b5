package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Await;
import dev.sluice.testing.Http;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The built-in mock's fault scripts ({@code mock@stall-after=3}, …) surface exactly like a real upstream's faults.
 * Provider {@code strict} has short timeouts and serves only the faults that wait for one (a stall that never resumes,
 * a latency of ten minutes), so a timeout there can only be that timeout; everything else runs on provider
 * {@code mock}, whose timeouts are far away, so a loaded machine cannot turn a good answer into a timeout.
 */
class MockProviderFaultTest {
  static final String YAML = """
      server: { port: 0, instances: 1, shutdown-grace: 2s, sse-keepalive: 15s }
      security: { key-pepper: "%s" }
      providers:
        mock:
          type: mock
          latency: 0ms
          tokens-per-second: 200
          timeouts: { connect: 10s, headers: 60s, first-token: 60s, idle: 60s, total: 60s }
        strict:
          type: mock
          latency: 0ms
          tokens-per-second: 200
          timeouts: { connect: 10s, headers: 1s, first-token: 1s, idle: 500ms, total: 1s }
      models:
        ok: { deployments: [ { provider: mock, model: mock } ] }
        stall: { deployments: [ { provider: strict, model: "mock@stall-after=3" } ] }
        cut: { deployments: [ { provider: mock, model: "mock@cut-after=3" } ] }
        fail: { deployments: [ { provider: mock, model: "mock@status=500" } ] }
        reject: { deployments: [ { provider: mock, model: "mock@status=400" } ] }
        slow: { deployments: [ { provider: mock, model: "mock@tps=2" } ] }
        late: { deployments: [ { provider: strict, model: "mock@latency=10m" } ] }
        late-patient: { deployments: [ { provider: mock, model: "mock@latency=10m" } ] }
      tenants:
        - id: acme
          keys: [ { id: acme-key-1, digest: "%s" } ]
      resilience: { max-attempts: 1 }
      """;

  Vertx vertx;
  TestGateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    gateway = TestGateway.startYaml(vertx, YAML.formatted(TestGateway.PEPPER, TestGateway.digest(TestGateway.KEY)));
  }

  @AfterEach
  void stop() {
    gateway.close();
    vertx.close().await();
  }

  static String request(String model, boolean stream) {
    return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  }

  private RawClient stream(String model) throws Exception {
    return RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, request(model, true));
  }

  private HttpResponse<String> post(String model, boolean stream) throws Exception {
    return Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, request(model, stream));
  }

  @Test
  void mockStreamCompletesWithDoneAndNoUnaskedUsageChunk() throws Exception {
    try (RawClient client = stream("ok")) {
      assertThat(client.status()).isEqualTo(200);
      List<String> events = client.remainingEvents();
      assertThat(String.join("", Sse.contents(events))).isEqualTo("This is a mock response from Sluice. You said: hi");
      assertThat(events).last().isEqualTo("data: [DONE]");
      assertThat(events).noneMatch(Sse::hasUsage);
    }
  }

  @Test
  void mockStallAfterThreeChunksEndsWithStreamInterruptedAfterTheIdleTimeout() throws Exception {
    try (RawClient client = stream("stall")) {
      for (int i = 0; i < 4; i++) assertThat(Sse.json(client.nextEvent())).isNotNull(); // role + 3 content chunks
      long afterLast = System.nanoTime();
      assertThat(Sse.errorCode(client.nextEvent())).isEqualTo("stream_interrupted");
      assertThat((System.nanoTime() - afterLast) / 1_000_000).as("not before the idle timeout").isGreaterThanOrEqualTo(300L);
      assertThat(client.nextEvent()).isNull();
    }
  }

  @Test
  void mockCutAfterThreeChunksEndsWithStreamInterruptedAndNoDone() throws Exception {
    try (RawClient client = stream("cut")) {
      StreamFaultTest.assertInterrupted(client.remainingEvents(), 4);
    }
  }

  @Test
  void mockStatus500IsA503EnvelopeForStreamsAndNonStreams() throws Exception {
    CommitPointTest.assertEnvelope(post("fail", true), 503, "upstream_unavailable");
    CommitPointTest.assertEnvelope(post("fail", false), 503, "upstream_unavailable");
  }

  @Test
  void mockStatus400IsPassedThroughWithShouldRetryFalse() throws Exception {
    HttpResponse<String> response = post("reject", false);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("x-should-retry")).hasValue("false");
  }

  @Test
  void mockLatencyBeyondTheTotalTimeoutIsA504() throws Exception {
    long start = System.nanoTime();
    CommitPointTest.assertEnvelope(post("late", false), 504, "upstream_timeout");
    assertThat(CommitPointTest.millisSince(start)).isGreaterThanOrEqualTo(900L);
  }

  @Test
  void mockLatencyBeyondTheHeadersTimeoutIsA504ForStreams() throws Exception {
    long start = System.nanoTime();
    CommitPointTest.assertEnvelope(post("late", true), 504, "upstream_timeout");
    assertThat(CommitPointTest.millisSince(start)).isGreaterThanOrEqualTo(900L);
  }

  @Test
  void clientDisconnectMidMockStreamReleasesTheRequest() throws Exception {
    // ~110 words at 2 per second: the stream would run for about a minute, far beyond the wait below, so only the
    // disconnect can end it in time
    RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY,
        request("slow", true).replace("\"hi\"", "\"" + "a ".repeat(100).trim() + "\""));
    assertThat(Sse.json(client.nextEvent())).isNotNull();
    assertThat(Sse.json(client.nextEvent())).isNotNull();
    client.close();
    Await.until(vertx, Duration.ofSeconds(20), "in-flight back to 0", () -> gateway.gateway.inFlight() == 0);
  }

  @Test
  void clientDisconnectBeforeTheMockAnswersReleasesTheRequest() throws Exception {
    RawClient client = stream("late-patient");
    Await.until(vertx, Duration.ofSeconds(20), "request in flight", () -> gateway.gateway.inFlight() == 1);
    client.close();
    Await.until(vertx, Duration.ofSeconds(20), "in-flight back to 0", () -> gateway.gateway.inFlight() == 0);
  }
}
