package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.sluice.Gateway;
import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Http;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.TestGateway;
import dev.sluice.usage.UsageEvent;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every upstream failure says why: its cause (a fixed vocabulary) reaches the error response's
 * {@code x-sluice-upstream-error} header, the usage event, the access log and {@code llm_upstream_attempts_total}'s
 * result label, together with {@code x-sluice-attempts} and {@code x-sluice-provider} — never the provider's host,
 * port or key.
 */
class UpstreamErrorCauseTest {
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String STREAM = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String DNS_HOST = "sluice-no-such-host.invalid";

  Vertx vertx;
  FakeUpstream upstream;
  Gateway gateway;
  PrometheusMeterRegistry registry;
  LogCapture log;
  final List<UsageEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    vertx.eventBus().<UsageEvent>consumer(UsageEvent.ADDRESS, m -> events.add(m.body())).completion().await();
    log = LogCapture.start(Level.INFO, "sluice.access");
  }

  @AfterEach
  void stop() {
    log.close();
    if (gateway != null) gateway.stop().await();
    upstream.close();
    vertx.close().await();
  }

  /** The standard test gateway (one attempt per request) with provider {@code fake} at {@code baseUrl}. */
  void startGateway(String baseUrl, String extra) {
    startGateway(baseUrl, extra, TestGateway.DEFAULT_TIMEOUTS);
  }

  void startGateway(String baseUrl, String extra, String timeouts) {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    gateway = Gateway.start(vertx, ConfigLoader.parse(TestGateway.yaml(baseUrl, extra, TestGateway.DEFAULT_SERVER, timeouts),
        Map.of()), 0, Clock.systemUTC(), registry).await();
  }

  HttpResponse<String> post(String body) throws Exception {
    return Http.post("http://127.0.0.1:" + gateway.port() + "/v1/chat/completions", TestGateway.KEY, body);
  }

  /** The gateway's answer to one chat request when the upstream answers every request with {@code script}. */
  HttpResponse<String> answerWhenUpstream(FakeUpstream.Script script) throws Exception {
    startGateway(upstream.baseUrl(), "");
    upstream.always(script);
    return post(CHAT);
  }

  UsageEvent eventFor(HttpResponse<?> response) throws Exception {
    String id = response.headers().firstValue("x-request-id").orElseThrow();
    Await.until(vertx, Duration.ofSeconds(20), "usage event", () -> events.stream().anyMatch(e -> e.requestId().equals(id)));
    return events.stream().filter(e -> e.requestId().equals(id)).findFirst().orElseThrow();
  }

  JsonObject accessLine(String requestId) throws Exception {
    String line = log.await(lines -> lines.stream().anyMatch(l -> l.logger().equals("sluice.access") && l.text().contains(requestId)),
        Duration.ofSeconds(20)).stream().filter(l -> l.logger().equals("sluice.access") && l.text().contains(requestId))
        .findFirst().orElseThrow().text();
    return new JsonObject(line.substring(line.indexOf('{')));
  }

  double attempts(String provider, String result) {
    return registry.scrape().lines()
        .filter(l -> l.startsWith("llm_upstream_attempts_total{") && l.contains("provider=\"" + provider + "\"")
            && l.contains("result=\"" + result + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** The cause is in the header, the usage event, the access log and the metric; nothing names the host or key. */
  void assertCause(HttpResponse<String> response, String cause, String... forbidden) throws Exception {
    assertThat(response.headers().firstValue("x-sluice-upstream-error")).hasValue(cause);
    assertThat(response.headers().firstValue("x-sluice-attempts")).hasValue("1");
    assertThat(response.headers().firstValue("x-sluice-provider")).hasValue("fake");
    UsageEvent event = eventFor(response);
    assertThat(event.upstreamErrors()).containsExactly(new UsageEvent.UpstreamError("fake", cause));
    JsonObject line = accessLine(event.requestId());
    assertThat(line.getString("upstream_error")).isEqualTo(cause);
    Await.until(vertx, Duration.ofSeconds(20), "metric", () -> attempts("fake", cause) == 1);
    String everything = response.headers().map() + response.body() + line.encode() + registry.scrape();
    assertThat(everything).doesNotContain(TestGateway.PROVIDER_KEY).doesNotContain(upstream.rootUrl().replace("http://", ""));
    for (String f : forbidden) assertThat(everything).doesNotContain(f);
  }

  @Test
  void connectionRefusedIsConnectRefused() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    startGateway("http://127.0.0.1:" + closedPort + "/v1", "");
    HttpResponse<String> response = post(CHAT);
    assertThat(response.statusCode()).isEqualTo(503);
    assertCause(response, "connect_refused", ":" + closedPort);
  }

  @Test
  void unresolvableHostIsDns() throws Exception {
    startGateway("http://" + DNS_HOST + "/v1", "");
    HttpResponse<String> response = post(CHAT);
    assertThat(response.statusCode()).isEqualTo(503);
    assertCause(response, "dns", DNS_HOST, "sluice-no-such-host");
  }

  @Test
  void noResponseHeadersInTimeIsHeadersTimeout() throws Exception {
    startGateway(upstream.baseUrl(), "", TestGateway.timeoutsWith("headers: 1s"));
    upstream.always(Scripts.hang());
    HttpResponse<String> response = post(STREAM);
    assertThat(response.statusCode()).isEqualTo(504);
    assertCause(response, "headers_timeout");
  }

  @Test
  void providerRejectingOurKeyIsProvider401WithItsCode() throws Exception {
    HttpResponse<String> response = answerWhenUpstream(Scripts.error(401, "invalid_request_error", "invalid_api_key",
        "Incorrect API key provided: " + TestGateway.PROVIDER_KEY + ". You can find your API key at https://platform.example/keys."));
    assertThat(response.statusCode()).as("the tenant's key is fine: the provider is unavailable").isEqualTo(503);
    assertCause(response, "provider_401_invalid_api_key", "Incorrect API key");
  }

  @Test
  void providerRateLimitIsProvider429WithItsCode() throws Exception {
    HttpResponse<String> response = answerWhenUpstream(ex -> ex.response.putHeader("retry-after", "30").setStatusCode(429)
        .putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("message", "Rate limit reached for upstream-mini in organization org-secret123")
            .put("type", "requests").putNull("param").put("code", "rate_limit_exceeded")).encode()));
    assertThat(response.statusCode()).isEqualTo(429);
    assertCause(response, "provider_429_rate_limit_exceeded", "org-secret123");
  }

  @Test
  void providerQuotaExhaustedIsProvider429InsufficientQuota() throws Exception {
    HttpResponse<String> response = answerWhenUpstream(Scripts.error(429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota"));
    assertThat(response.statusCode()).isEqualTo(503);
    assertCause(response, "provider_429_insufficient_quota", "exceeded your current quota");
  }

  @Test
  void anUnknownProviderCodeStaysOutOfTheCause() throws Exception {
    HttpResponse<String> response = answerWhenUpstream(Scripts.error(503, "weird", "tenant-7f3a-overflow", "busy"));
    assertThat(response.statusCode()).isEqualTo(503);
    assertCause(response, "provider_503", "tenant-7f3a-overflow");
  }

  @Test
  void eachAttemptOfAFallbackChainKeepsItsOwnCauseAndProvider() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    String yaml = TestGateway.yaml("http://" + DNS_HOST + "/v1", "resilience: { max-attempts: 3 }")
        .replace("providers:\n", "providers:\n  refusing: { type: openai-compatible, base-url: \"http://127.0.0.1:" + closedPort
            + "/v1\", api-key: k, timeouts: " + TestGateway.DEFAULT_TIMEOUTS + " }\n")
        .replace("gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ] }",
            "gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini }, { provider: refusing, model: upstream-mini } ] }");
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    gateway = Gateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), 0, Clock.systemUTC(), registry).await();
    HttpResponse<String> response = post(CHAT);
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("x-sluice-attempts")).hasValue("3");
    assertThat(response.headers().firstValue("x-sluice-provider")).as("the last one tried").hasValue("fake");
    assertThat(response.headers().firstValue("x-sluice-upstream-error")).hasValue("dns,connect_refused,dns");
    UsageEvent event = eventFor(response);
    assertThat(event.upstreamErrors()).containsExactly(new UsageEvent.UpstreamError("fake", "dns"),
        new UsageEvent.UpstreamError("refusing", "connect_refused"), new UsageEvent.UpstreamError("fake", "dns"));
    assertThat(accessLine(event.requestId()).getString("upstream_error")).isEqualTo("dns,connect_refused,dns");
    Await.until(vertx, Duration.ofSeconds(20), "metrics",
        () -> attempts("fake", "dns") == 2 && attempts("refusing", "connect_refused") == 1);
  }
}
