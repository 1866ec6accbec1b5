package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigReloader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Config reload: validate-then-swap. New tenants authenticate at once, removed ones get 401, requests in flight
 * finish on the snapshot they started with, and a broken file leaves the running config in place.
 */
class ConfigReloadTest extends GatewayTest {
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String GAMMA_KEY = "sk-sluice-test-gamma-0123456789abcdefghijklmnopqrstuvwxyz";

  @TempDir
  Path dir;

  @Test
  void tenantAddedByApplyCanAuthenticate() throws Exception {
    assertThat(chat(GAMMA_KEY).statusCode()).isEqualTo(401);
    gateway.gateway.apply(parse(withGamma()));
    assertThat(chat(GAMMA_KEY).statusCode()).isEqualTo(200);
    assertThat(chat(TestGateway.KEY).statusCode()).isEqualTo(200);
  }

  @Test
  void tenantRemovedByApplyGets401() throws Exception {
    assertThat(models(TestGateway.OTHER_KEY).statusCode()).isEqualTo(200);
    gateway.gateway.apply(parse(withoutBeta()));
    HttpResponse<String> response = models(TestGateway.OTHER_KEY);
    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.body()).contains("\"code\":\"invalid_api_key\"");
    assertThat(models(TestGateway.KEY).statusCode()).isEqualTo(200);
  }

  @Test
  void streamStartedBeforeTheSwapCompletesWithDoneOnTheOldSnapshot() throws Exception {
    CompletableFuture<Void> swapped = new CompletableFuture<>();
    List<String> pieces = IntStream.range(0, 10).mapToObj(i -> "piece" + i + " ").collect(Collectors.toList());
    upstream.next(ex -> {
      // First event now (the commit point), the rest only after the test has swapped the config.
      List<String> frames = Scripts.events(ex, pieces, "stop", true);
      Context context = ex.vertx.getOrCreateContext();
      ex.response.setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      ex.response.write(frames.get(0));
      swapped.thenRun(() -> context.runOnContext(v -> sendSlowly(ex, context, frames, 1)));
    });
    // parsed up front so the upstream's silence before the swap stays far below its idle timeout
    SluiceConfig next = parse(withoutAcme().replace(upstream.baseUrl(), "http://127.0.0.1:9/v1"));
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    CompletableFuture<HttpResponse<Stream<String>>> pending = client.sendAsync(HttpRequest.newBuilder(
            URI.create(gateway.baseUrl() + "/chat/completions")).timeout(Duration.ofSeconds(20))
        .header("authorization", "Bearer " + TestGateway.KEY).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(CHAT.replace("\"messages\"", "\"stream\":true,\"messages\""))).build(),
        HttpResponse.BodyHandlers.ofLines());
    HttpResponse<Stream<String>> response = pending.get(20, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);

    long before = gateway.gateway.state().version();
    gateway.gateway.apply(next);
    assertThat(gateway.gateway.state().version()).isGreaterThan(before);
    swapped.complete(null);

    List<String> data = response.body().filter(l -> l.startsWith("data: ")).collect(Collectors.toList());
    assertThat(data).last().isEqualTo("data: [DONE]");
    assertThat(String.join("\n", data)).contains(pieces.stream().map(String::trim).toArray(String[]::new))
        .doesNotContain("stream_interrupted");
    assertThat(chat(TestGateway.KEY).statusCode()).as("acme is gone in the new snapshot").isEqualTo(401);
  }

  @Test
  void reloaderAppliesAChangedFile() throws Exception {
    Path file = Files.writeString(dir.resolve("sluice.yaml"), TestGateway.yaml(upstream.baseUrl(), ""));
    ConfigReloader reloader = new ConfigReloader(vertx, file, Map.of(), gateway.gateway::apply);

    Files.writeString(file, withGamma().replace(beta(), ""));
    assertThat(reloader.reload().await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(chat(GAMMA_KEY).statusCode()).isEqualTo(200);
    assertThat(models(TestGateway.OTHER_KEY).statusCode()).isEqualTo(401);
  }

  @Test
  void brokenFileIsRejectedAndTheRunningConfigKeepsServing() throws Exception {
    Path file = Files.writeString(dir.resolve("sluice.yaml"), withGamma());
    ConfigReloader reloader = new ConfigReloader(vertx, file, Map.of(), gateway.gateway::apply);
    assertThat(reloader.reload().await(10, TimeUnit.SECONDS)).isTrue();
    long version = gateway.gateway.state().version();

    Files.writeString(file, withoutAcme() + "    limits: { requests-per-minute: -5 }\n");
    assertThat(reloader.reload().await(10, TimeUnit.SECONDS)).isFalse();
    Files.writeString(file, "providers: [ not: valid: yaml");
    assertThat(reloader.reload().await(10, TimeUnit.SECONDS)).isFalse();
    Files.delete(file);
    assertThat(reloader.reload().await(10, TimeUnit.SECONDS)).isFalse();

    assertThat(gateway.gateway.state().version()).isEqualTo(version);
    assertThat(chat(TestGateway.KEY).statusCode()).isEqualTo(200);
    assertThat(chat(GAMMA_KEY).statusCode()).isEqualTo(200);
  }

  // --- helpers ---

  private static void sendSlowly(FakeUpstream.Exchange ex, Context context, List<String> frames, int i) {
    HttpServerResponse response = ex.response;
    if (response.closed()) return;
    if (i == frames.size()) {
      response.end();
      return;
    }
    response.write(Buffer.buffer(frames.get(i)));
    context.owner().setTimer(50, id -> sendSlowly(ex, context, frames, i + 1));
  }

  private String withGamma() {
    return TestGateway.yaml(upstream.baseUrl(), "  - id: gamma\n    keys: [ { id: gamma-key-1, digest: \""
        + TestGateway.digest(GAMMA_KEY) + "\" } ]\n");
  }

  private String withoutBeta() {
    return TestGateway.yaml(upstream.baseUrl(), "").replace(beta(), "");
  }

  private String withoutAcme() {
    String yaml = TestGateway.yaml(upstream.baseUrl(), "");
    String acme = "  - id: acme\n    keys: [ { id: acme-key-1, digest: \"" + TestGateway.digest(TestGateway.KEY) + "\" } ]\n";
    assertThat(yaml).contains(acme);
    return yaml.replace(acme, "");
  }

  private static String beta() {
    return "  - id: beta\n    keys: [ { id: beta-key-1, digest: \"" + TestGateway.digest(TestGateway.OTHER_KEY) + "\" } ]\n"
        + "    models: [ text-embedding-3-small ]\n";
  }

  private static SluiceConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, Map.of());
  }

  private HttpResponse<String> chat(String key) throws Exception {
    return Http.post(gateway.baseUrl() + "/chat/completions", key, CHAT);
  }

  private HttpResponse<String> models(String key) throws Exception {
    return Http.get(gateway.baseUrl() + "/models", key);
  }
}
