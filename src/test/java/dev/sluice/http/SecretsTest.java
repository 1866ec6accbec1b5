package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigReloader;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenant keys, their digests, the pepper and provider keys never reach a response, a log line or
 * the provider; client credentials and cookies are never forwarded; provider cookies and account ids never come back.
 */
class SecretsTest {
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String STREAM = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String WRONG_KEY = "sk-sluice-test-acme-0123456789abcdefghijklmnopqrstuvwxyZ";

  @TempDir
  Path dir;
  Vertx vertx;
  LogCapture logs;
  FakeUpstream upstream;
  TestGateway gateway;
  HttpClient client;

  @BeforeEach
  void start() {
    logs = LogCapture.start(Level.DEBUG, "sluice.access", "io.netty");
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    gateway = TestGateway.start(vertx, upstream.baseUrl());
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    vertx.close().await();
    logs.close();
  }

  @Test
  void noSecretAppearsInAnyResponseOrLogLine() throws Exception {
    List<String> seen = new ArrayList<>();
    seen.add(text(expect(200, chat(CHAT, TestGateway.KEY))));
    seen.add(text(expect(200, chat(STREAM, TestGateway.KEY))));
    seen.add(text(expect(401, chat(CHAT, WRONG_KEY))));
    seen.add(text(expect(404, chat(CHAT.replace("gpt-4o-mini", "gpt-9"), TestGateway.KEY))));
    upstream.next(Scripts.error(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: "
        + TestGateway.PROVIDER_KEY + ". You can find your API key at https://platform.openai.com/account/api-keys."));
    seen.add(text(expect(503, chat(CHAT, TestGateway.KEY))));
    upstream.next(Scripts.error(400, "invalid_request_error", "invalid_value", "Bad request signed with "
        + TestGateway.PROVIDER_KEY + " (Bearer " + TestGateway.PROVIDER_KEY + ")"));
    seen.add(text(expect(400, chat(CHAT, TestGateway.KEY))));
    upstream.next(Scripts.error(429, "requests", "rate_limit_exceeded", "Rate limit reached for key " + TestGateway.PROVIDER_KEY));
    seen.add(text(expect(429, chat(CHAT, TestGateway.KEY))));
    upstream.next(Scripts.frames(List.of("data: {\"error\":{\"message\":\"key " + TestGateway.PROVIDER_KEY
        + " revoked\",\"type\":\"invalid_request_error\",\"code\":null}}\n\n"), 0, true));
    seen.add(text(expect(502, chat(STREAM, TestGateway.KEY))));
    int apiRequests = 8;

    String broken = TestGateway.yaml(upstream.baseUrl(), "").replace(TestGateway.digest(TestGateway.OTHER_KEY),
        TestGateway.digest(TestGateway.KEY));
    try {
      ConfigLoader.parse(broken, Map.of());
    } catch (ConfigException e) {
      seen.add(e.getMessage());
    }
    Path file = Files.writeString(dir.resolve("sluice.yaml"), broken);
    assertThat(new ConfigReloader(vertx, file, Map.of(), gateway.gateway::apply).reload().await()).isFalse();

    HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(java.net.URI.create(gateway.metricsUrl())).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (metrics.statusCode() == 200) seen.add(metrics.body()); // scanned once /metrics exists

    List<LogCapture.Line> lines = logs.await(l -> accessLines(l) >= apiRequests && l.stream()
        .anyMatch(line -> line.text().contains("reload rejected")), Duration.ofSeconds(10));
    lines.forEach(line -> seen.add(line.text()));

    assertThat(String.join("\n", seen)).contains("\"status\":401", "\"status\":503", "<redacted>", "acme-key-1");
    for (String secret : secrets()) {
      assertThat(seen).as("texts containing %s", secret).noneSatisfy(text -> assertThat(text).contains(secret));
    }
  }

  @Test
  void providerSeesItsOwnKeyAndAllowListedHeadersButNeverClientCredentialsOrCookies() throws Exception {
    for (String body : List.of(CHAT, STREAM)) {
      HttpResponse<String> response = client.send(authorized("/v1/chat/completions")
          .header("content-type", "application/json")
          .header("api-key", TestGateway.KEY)
          .header("x-api-key", TestGateway.KEY)
          .header("cookie", "session=" + TestGateway.KEY)
          .header("openai-beta", "assistants=v2")
          .header("x-sluice-cache", "no-store")
          .header("x-forwarded-for", "10.0.0.1")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      Map<String, String> headers = upstream.lastRequest().headers();
      assertThat(headers.get("authorization")).isEqualTo("Bearer " + TestGateway.PROVIDER_KEY);
      assertThat(headers.get("openai-beta")).isEqualTo("assistants=v2");
      assertThat(headers).doesNotContainKeys("api-key", "x-api-key", "cookie", "x-sluice-cache", "x-forwarded-for");
      assertThat(headers.values()).noneSatisfy(v -> assertThat(v).contains(TestGateway.KEY));
      assertThat(upstream.lastRequest().body().encode()).doesNotContain(TestGateway.KEY);
    }
  }

  @Test
  void providerCookiesAndAccountHeadersNeverReachTheClient() throws Exception {
    FakeUpstream.Script chat = Scripts.chat("Hello there.");
    upstream.always(ex -> {
      ex.response.putHeader("set-cookie", "__cf_bm=provider-cookie; path=/; HttpOnly")
          .putHeader("openai-organization", "org-secret-acct")
          .putHeader("openai-project", "proj_secret")
          .putHeader("openai-processing-ms", "12");
      chat.play(ex);
    });
    for (String body : List.of(CHAT, STREAM)) {
      HttpResponse<String> response = chat(body, TestGateway.KEY);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().map()).doesNotContainKeys("set-cookie", "openai-organization", "openai-project");
      assertThat(response.headers().firstValue("openai-processing-ms")).hasValue("12");
      assertThat(text(response)).doesNotContain("provider-cookie", "org-secret-acct", "proj_secret");
    }
  }

  // --- helpers ---

  private List<String> secrets() {
    String digest = TestGateway.digest(TestGateway.KEY);
    return List.of(TestGateway.KEY, digest, digest.substring("hmac-sha256:".length()), TestGateway.PEPPER,
        TestGateway.PROVIDER_KEY, TestGateway.PROVIDER_KEY.substring("sk-provider-secret-".length()), WRONG_KEY,
        TestGateway.OTHER_KEY, TestGateway.digest(TestGateway.OTHER_KEY).substring("hmac-sha256:".length()));
  }

  private static long accessLines(List<LogCapture.Line> lines) {
    return lines.stream().filter(l -> l.logger().equals("sluice.access")).count();
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path)).timeout(Duration.ofSeconds(20));
  }

  private HttpRequest.Builder authorized(String path) {
    return request(path).header("authorization", "Bearer " + TestGateway.KEY);
  }

  private HttpResponse<String> chat(String body, String key) throws Exception {
    return client.send(request("/v1/chat/completions").header("authorization", "Bearer " + key)
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> expect(int status, HttpResponse<String> response) {
    assertThat(response.statusCode()).as("status of %s", response.body()).isEqualTo(status);
    return response;
  }

  /** Everything a client sees: status, every header, the body. */
  private static String text(HttpResponse<String> response) {
    return response.statusCode() + " " + response.headers().map() + "\n" + response.body();
  }
}
