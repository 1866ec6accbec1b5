package dev.sluice.mock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Http;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code sluice mock-upstream}: deterministic OpenAI-shaped answers and scripted faults over real HTTP. */
class MockUpstreamServerTest {
  Vertx vertx;
  String base;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    int port = new MockUpstreamServer(vertx, new MockUpstreamServer.Settings("127.0.0.1", 0, Duration.ZERO, 1000, 0, 500))
        .start().await();
    base = "http://127.0.0.1:" + port + "/v1";
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private static String chat(String model, boolean stream) {
    return new JsonObject().put("model", model).put("stream", stream)
        .put("messages", List.of(new JsonObject().put("role", "user").put("content", "ping pong"))).encode();
  }

  @Test
  void sameRequestGivesTheSameAnswer() throws Exception {
    String first = Http.post(base + "/chat/completions", null, chat("m", false)).body();
    String second = Http.post(base + "/chat/completions", null, chat("m", false)).body();
    JsonObject a = new JsonObject(first);
    JsonObject b = new JsonObject(second);
    assertThat(a.getJsonArray("choices")).isEqualTo(b.getJsonArray("choices"));
    assertThat(a.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
        .isEqualTo("This is a mock response from Sluice. You said: ping pong");
    assertThat(a.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(11);
  }

  @Test
  void streamCarriesTheSameTextAndEndsWithDone() throws Exception {
    HttpResponse<java.util.stream.Stream<String>> response = Http.postStreaming(base + "/chat/completions", "k", chat("m", true));
    List<String> data = response.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).collect(Collectors.toList());
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    String text = data.subList(0, data.size() - 1).stream().map(JsonObject::new)
        .map(c -> c.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content", ""))
        .collect(Collectors.joining());
    assertThat(text).isEqualTo("This is a mock response from Sluice. You said: ping pong");
  }

  @Test
  void statusScriptInTheModelNameAnswersWithThatError() throws Exception {
    HttpResponse<String> response = Http.post(base + "/chat/completions", null, chat("m@status=503", false));
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("type")).isEqualTo("server_error");
  }

  @Test
  void cutScriptDropsTheStreamBeforeDone() throws Exception {
    HttpResponse<java.util.stream.Stream<String>> response = Http.postStreaming(base + "/chat/completions", "k", chat("m@cut-after=2", true));
    List<String> lines;
    try {
      lines = response.body().collect(Collectors.toList());
    } catch (java.io.UncheckedIOException e) {
      lines = List.of(); // the reset may surface as an I/O error: either way no [DONE]
    }
    assertThat(lines).doesNotContain("data: [DONE]");
  }

  @Test
  void embeddingsAreDeterministicUnitVectors() throws Exception {
    String body = new JsonObject().put("model", "e").put("input", "hello").put("dimensions", 4).encode();
    JsonObject a = new JsonObject(Http.post(base + "/embeddings", null, body).body());
    JsonObject b = new JsonObject(Http.post(base + "/embeddings", null, body).body());
    assertThat(a.getJsonArray("data")).isEqualTo(b.getJsonArray("data"));
    double norm = a.getJsonArray("data").getJsonObject(0).getJsonArray("embedding").stream()
        .mapToDouble(v -> ((Number) v).doubleValue()).map(v -> v * v).sum();
    assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
  }
}
