package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Streams and cache hits look like the provider's own answers: a cached answer replays as chunks of whole code points,
 * keeps its logprobs whether it was stored from a stream or from JSON, and chunks carry a {@code usage} member only when
 * the client asked for usage.
 */
class CacheFidelityTest extends GatewayTest {
  static final String WAVE = "\uD83D\uDC4B";

  @Override
  protected TestGateway startGateway() {
    String yaml = TestGateway.yaml(upstream.baseUrl(), "")
        .replace("    keys: [ { id: acme-key-1,", "    cache: { enabled: true, ttl: 1h }\n    keys: [ { id: acme-key-1,");
    return TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  static String request(String prompt, boolean stream, String extra) {
    String json = new JsonObject().put("model", "gpt-4o-mini").put("temperature", 0)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", prompt)))
        .put("stream", stream).encode();
    return json.substring(0, json.length() - 1) + extra + "}";
  }

  HttpResponse<String> post(String body) throws Exception {
    return Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
  }

  /** The JSON of each data event of an SSE body, without {@code [DONE]}. */
  static List<JsonObject> events(String body) {
    List<JsonObject> out = new ArrayList<>();
    for (String event : body.split("\n\n")) {
      if (event.startsWith("data: ") && !event.equals("data: [DONE]")) out.add(new JsonObject(event.substring(6)));
    }
    return out;
  }

  static JsonObject firstChoice(JsonObject json) {
    return json.getJsonArray("choices").getJsonObject(0);
  }

  static JsonObject token(String text, double logprob) {
    return new JsonObject().put("token", text).put("logprob", logprob).put("bytes", new JsonArray())
        .put("top_logprobs", new JsonArray().add(new JsonObject().put("token", text).put("logprob", logprob).put("bytes", new JsonArray())));
  }

  static final List<String> TOKENS = List.of("Hello", " there", " " + WAVE, ",", " friend", ".");

  /**
   * Answers like OpenAI with logprobs: JSON with {@code choices[].logprobs.content}, or a stream of one chunk per token
   * carrying its logprob entry, {@code "usage": null} on every chunk and a usage chunk when usage was asked.
   */
  static FakeUpstream.Script withLogprobs() {
    return ex -> {
      JsonArray tokens = new JsonArray();
      for (int i = 0; i < TOKENS.size(); i++) tokens.add(token(TOKENS.get(i), -0.25 * i));
      if (!Boolean.TRUE.equals(ex.body.getValue("stream"))) {
        JsonObject body = Scripts.completion(ex.model(), String.join("", TOKENS), "stop");
        firstChoice(body).put("logprobs", new JsonObject().put("content", tokens).putNull("refusal"));
        Scripts.json(200, body).play(ex);
        return;
      }
      boolean usage = ex.body.getJsonObject("stream_options", new JsonObject()).getBoolean("include_usage", false);
      List<JsonObject> chunks = new ArrayList<>();
      chunks.add(Scripts.chunk(ex.model(), new JsonObject().put("role", "assistant").put("content", ""), null));
      for (int i = 0; i < TOKENS.size(); i++) {
        JsonObject chunk = Scripts.chunk(ex.model(), new JsonObject().put("content", TOKENS.get(i)), null);
        firstChoice(chunk).put("logprobs", new JsonObject().put("content", new JsonArray().add(tokens.getValue(i))).putNull("refusal"));
        chunks.add(chunk);
      }
      chunks.add(Scripts.chunk(ex.model(), new JsonObject(), "stop"));
      List<String> frames = new ArrayList<>();
      for (JsonObject chunk : chunks) frames.add(Scripts.data(usage ? chunk.putNull("usage") : chunk));
      if (usage) {
        frames.add(Scripts.data(new JsonObject().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk")
            .put("created", 1).put("model", ex.model()).put("choices", new JsonArray()).put("usage", Scripts.usage(7, TOKENS.size()))));
      }
      frames.add("data: [DONE]\n\n");
      Scripts.frames(frames, 0, true).play(ex);
    };
  }

  static JsonArray expectedTokens() {
    JsonArray tokens = new JsonArray();
    for (int i = 0; i < TOKENS.size(); i++) tokens.add(token(TOKENS.get(i), -0.25 * i));
    return tokens;
  }

  static JsonArray streamedTokens(List<JsonObject> events) {
    JsonArray out = new JsonArray();
    for (JsonObject event : events) {
      if (!event.getJsonArray("choices").isEmpty() && firstChoice(event).getValue("logprobs") instanceof JsonObject l
          && l.getValue("content") instanceof JsonArray content) {
        out.addAll(content);
      }
    }
    return out;
  }

  @Test
  void aStreamedMissThenAJsonHitKeepsTheLogprobs() throws Exception {
    upstream.always(withLogprobs());
    String logprobs = ",\"logprobs\":true,\"top_logprobs\":1";
    HttpResponse<String> miss = post(request("tell me", true, logprobs));
    assertThat(miss.headers().firstValue("x-sluice-cache")).hasValue("MISS");
    assertThat(streamedTokens(events(miss.body()))).isEqualTo(expectedTokens());
    HttpResponse<String> hit = post(request("tell me", false, logprobs));
    assertThat(hit.headers().firstValue("x-sluice-cache")).hasValue("HIT");
    JsonObject choice = firstChoice(new JsonObject(hit.body()));
    assertThat(choice.getJsonObject("message").getString("content")).isEqualTo(String.join("", TOKENS));
    assertThat(choice.getJsonObject("logprobs").getJsonArray("content")).isEqualTo(expectedTokens());
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  @Test
  void aJsonMissThenAStreamedHitKeepsTheLogprobs() throws Exception {
    upstream.always(withLogprobs());
    String logprobs = ",\"logprobs\":true,\"top_logprobs\":1";
    HttpResponse<String> miss = post(request("tell me", false, logprobs));
    assertThat(firstChoice(new JsonObject(miss.body())).getJsonObject("logprobs").getJsonArray("content")).isEqualTo(expectedTokens());
    HttpResponse<String> hit = post(request("tell me", true, logprobs));
    assertThat(hit.headers().firstValue("x-sluice-cache")).hasValue("HIT");
    assertThat(streamedTokens(events(hit.body()))).isEqualTo(expectedTokens());
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  /** Neither piece boundary of a replayed text may fall inside a surrogate pair. */
  static void assertWholeCodePoints(String piece, int offset) {
    if (piece.isEmpty()) return;
    assertThat(Character.isLowSurrogate(piece.charAt(0))).as("offset %d: piece starts mid-pair", offset).isFalse();
    assertThat(Character.isHighSurrogate(piece.charAt(piece.length() - 1))).as("offset %d: piece ends mid-pair", offset).isFalse();
  }

  @Test
  void aCachedAnswerReplaysEmojiWholeAtEveryOffsetAroundACut() throws Exception {
    for (int offset = 60; offset <= 68; offset++) {
      String content = "a".repeat(offset) + WAVE + "b".repeat(62) + WAVE + WAVE;
      upstream.next(Scripts.json(200, Scripts.completion("upstream-mini", content, "stop")));
      String prompt = "wave at " + offset;
      assertThat(post(request(prompt, false, "")).statusCode()).isEqualTo(200);
      HttpResponse<String> hit = post(request(prompt, true, ""));
      assertThat(hit.headers().firstValue("x-sluice-cache")).hasValue("HIT");
      StringBuilder replayed = new StringBuilder();
      for (JsonObject event : events(hit.body())) {
        String piece = firstChoice(event).getJsonObject("delta").getString("content", "");
        assertWholeCodePoints(piece, offset);
        replayed.append(piece);
      }
      assertThat(replayed.toString()).isEqualTo(content);
    }
  }

  @Test
  void cachedToolArgumentsReplayEmojiWholeAtEveryOffsetAroundACut() throws Exception {
    for (int offset = 50; offset <= 58; offset++) {
      String arguments = "{\"text\":\"" + "a".repeat(offset) + WAVE + WAVE + "\"}"; // the emoji near UTF-16 unit 64
      upstream.next(Scripts.toolCall("call_" + offset, "wave", arguments, 1000));
      String prompt = "call at " + offset;
      HttpResponse<String> miss = post(request(prompt, false, ""));
      assertThat(miss.statusCode()).as(miss.body() + miss.headers().map()).isEqualTo(200);
      HttpResponse<String> hit = post(request(prompt, true, ""));
      assertThat(hit.headers().firstValue("x-sluice-cache")).hasValue("HIT");
      StringBuilder replayed = new StringBuilder();
      for (JsonObject event : events(hit.body())) {
        if (!(firstChoice(event).getJsonObject("delta").getValue("tool_calls") instanceof JsonArray calls)) continue;
        String piece = calls.getJsonObject(0).getJsonObject("function").getString("arguments", "");
        assertWholeCodePoints(piece, offset);
        replayed.append(piece);
      }
      assertThat(replayed.toString()).isEqualTo(arguments);
    }
  }

  @Test
  void chunksCarryNoUsageMemberUnlessUsageWasAsked() throws Exception {
    upstream.always(withLogprobs()); // the gateway always asks for usage upstream: every upstream chunk has "usage": null
    List<JsonObject> relayed = events(post(request("count", true, "")).body());
    assertThat(relayed).isNotEmpty().allSatisfy(e -> assertThat(e.containsKey("usage")).as("relayed %s", e).isFalse());
    List<JsonObject> replayed = events(post(request("count", true, "")).body());
    assertThat(replayed).isNotEmpty().allSatisfy(e -> assertThat(e.containsKey("usage")).as("replayed %s", e).isFalse());

    String withUsage = ",\"stream_options\":{\"include_usage\":true}";
    for (List<JsonObject> asked : List.of(events(post(request("count more", true, withUsage)).body()),
        events(post(request("count more", true, withUsage)).body()))) {
      JsonObject last = asked.get(asked.size() - 1);
      assertThat(last.getJsonObject("usage").getInteger("total_tokens")).isEqualTo(7 + TOKENS.size());
      assertThat(asked.subList(0, asked.size() - 1)).allSatisfy(e -> {
        assertThat(e.containsKey("usage")).isTrue();
        assertThat(e.getValue("usage")).isNull();
      });
    }
    assertThat(upstream.requestCount()).as("the second of each pair is a hit").isEqualTo(2);
  }
}
