package dev.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A streamed answer assembles into the completion it stands for, and replays into chunks that assemble back. */
class StreamReplayTest {
  static JsonObject chunk(JsonObject delta, String finish) {
    return new JsonObject().put("id", "c1").put("object", "chat.completion.chunk").put("created", 5).put("model", "m")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta).put("finish_reason", finish)));
  }

  @Test
  void toolCallDeltasAssembleAndReplay() {
    StreamAssembler assembler = new StreamAssembler();
    assembler.add(chunk(new JsonObject().put("role", "assistant").put("content", ""), null));
    assembler.add(chunk(new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject().put("index", 0)
        .put("id", "call_1").put("type", "function").put("function", new JsonObject().put("name", "lookup").put("arguments", "")))), null));
    assembler.add(chunk(new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject().put("index", 0)
        .put("function", new JsonObject().put("arguments", "{\"q\":")))), null));
    assembler.add(chunk(new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject().put("index", 0)
        .put("function", new JsonObject().put("arguments", "\"x\"}")))), null));
    assembler.add(chunk(new JsonObject(), "tool_calls"));
    assembler.add(new JsonObject().put("id", "c1").put("choices", new JsonArray())
        .put("usage", new JsonObject().put("prompt_tokens", 3).put("completion_tokens", 4).put("total_tokens", 7)));
    JsonObject completion = assembler.completion();
    JsonObject call = completion.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getJsonArray("tool_calls").getJsonObject(0);
    assertThat(call.getString("id")).isEqualTo("call_1");
    assertThat(call.getJsonObject("function").getString("arguments")).isEqualTo("{\"q\":\"x\"}");
    assertThat(SseReplay.isCompleteChat(completion)).isTrue();

    List<JsonObject> replay = SseReplay.chunks(completion, true);
    StreamAssembler again = new StreamAssembler();
    replay.forEach(again::add);
    assertThat(again.completion()).isEqualTo(completion);
    assertThat(replay.get(replay.size() - 1).getJsonObject("usage").getInteger("total_tokens")).isEqualTo(7);
  }

  @Test
  void truncatedOrFilteredAnswersAreNotCompleteSuccesses() {
    JsonObject length = new JsonObject("{\"choices\":[{\"index\":0,\"message\":{\"content\":\"x\"},\"finish_reason\":\"length\"}]}");
    JsonObject filtered = new JsonObject("{\"choices\":[{\"index\":0,\"message\":{\"content\":\"x\"},\"finish_reason\":\"content_filter\"}]}");
    JsonObject open = new JsonObject("{\"choices\":[{\"index\":0,\"message\":{\"content\":\"x\"},\"finish_reason\":null}]}");
    assertThat(SseReplay.isCompleteChat(length)).isFalse();
    assertThat(SseReplay.isCompleteChat(filtered)).isFalse();
    assertThat(SseReplay.isCompleteChat(open)).isFalse();
  }

  @Test
  void envelopeRejectsForeignTenantsOldVersionsAndTampering() {
    JsonObject body = new JsonObject().put("choices", new JsonArray());
    JsonObject envelope = new CachedResponse("a", "chat", "m", 1, body).toEnvelope();
    assertThat(CachedResponse.fromEnvelope(envelope, "a", "chat", "m")).isNotNull();
    assertThat(CachedResponse.fromEnvelope(envelope, "b", "chat", "m")).isNull();
    assertThat(CachedResponse.fromEnvelope(envelope.copy().put("v", 0), "a", "chat", "m")).isNull();
    assertThat(CachedResponse.fromEnvelope(envelope.copy().put("body", new JsonObject().put("x", 1)), "a", "chat", "m")).isNull();
  }

  static JsonObject completion(String content, JsonArray toolCalls, JsonObject logprobs) {
    JsonObject message = new JsonObject().put("role", "assistant").put("content", content).putNull("refusal");
    if (toolCalls != null) message.put("tool_calls", toolCalls);
    return new JsonObject().put("id", "c1").put("object", "chat.completion").put("created", 5).put("model", "m")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("message", message).put("logprobs", logprobs)
            .put("finish_reason", toolCalls == null ? "stop" : "tool_calls")));
  }

  /** Every piece is valid text on its own: it neither starts with a low surrogate nor ends with a high one. */
  static void assertWholeCodePoints(String piece) {
    assertThat(piece).isNotEmpty();
    assertThat(Character.isLowSurrogate(piece.charAt(0))).as("piece starts inside a pair: %s", piece).isFalse();
    assertThat(Character.isHighSurrogate(piece.charAt(piece.length() - 1))).as("piece ends inside a pair: %s", piece).isFalse();
  }

  @Test
  void replayNeverSplitsASurrogatePairWhereverTheEmojiFalls() {
    for (int offset = 0; offset <= 140; offset++) {
      String text = "a".repeat(offset) + "\uD83D\uDC4B" + "b".repeat(70) + "\uD83C\uDF0D";
      JsonArray calls = new JsonArray().add(new JsonObject().put("id", "call_1").put("type", "function")
          .put("function", new JsonObject().put("name", "wave").put("arguments", "{\"x\":\"" + text + "\"}")));
      for (JsonObject stored : List.of(completion(text, null, null), completion(null, calls, null))) {
        StringBuilder content = new StringBuilder();
        StringBuilder arguments = new StringBuilder();
        for (JsonObject chunk : SseReplay.chunks(stored, false)) {
          JsonObject delta = chunk.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
          if (delta.getValue("content") instanceof String piece && !piece.isEmpty()) {
            assertWholeCodePoints(piece);
            content.append(piece);
          }
          if (delta.getValue("tool_calls") instanceof JsonArray parts) {
            String piece = parts.getJsonObject(0).getJsonObject("function").getString("arguments");
            if (!piece.isEmpty()) {
              assertWholeCodePoints(piece);
              arguments.append(piece);
            }
          }
        }
        if (stored.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getValue("tool_calls") == null) {
          assertThat(content.toString()).as("offset %d", offset).isEqualTo(text);
        } else {
          assertThat(arguments.toString()).as("offset %d", offset).isEqualTo("{\"x\":\"" + text + "\"}");
        }
      }
    }
  }

  static JsonObject token(String text, double logprob) {
    return new JsonObject().put("token", text).put("logprob", logprob).put("bytes", new JsonArray())
        .put("top_logprobs", new JsonArray().add(new JsonObject().put("token", text).put("logprob", logprob).put("bytes", new JsonArray())));
  }

  @Test
  void logprobsSurviveJsonToChunksAndBack() {
    JsonArray tokens = new JsonArray();
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      String t = i % 7 == 0 ? " \uD83D\uDC4B" : " word" + i;
      tokens.add(token(t, -0.01 * i));
      text.append(t);
    }
    JsonObject stored = completion(text.toString(), null, new JsonObject().put("content", tokens).putNull("refusal"));
    List<JsonObject> replay = SseReplay.chunks(stored, false);
    JsonArray streamed = new JsonArray();
    for (JsonObject chunk : replay) {
      if (chunk.getJsonArray("choices").getJsonObject(0).getValue("logprobs") instanceof JsonObject l) {
        streamed.addAll(l.getJsonArray("content"));
      }
    }
    assertThat(streamed).isEqualTo(tokens);
    assertThat(replay.stream().filter(c -> c.getJsonArray("choices").getJsonObject(0).getValue("logprobs") != null).count())
        .as("spread over the content pieces, not one blob").isGreaterThan(1);
    StreamAssembler again = new StreamAssembler();
    replay.forEach(again::add);
    assertThat(again.completion()).as("reassembled from the chunks, logprobs included").isEqualTo(stored);
  }

  @Test
  void replayCarriesUsageMembersOnlyWhenAskedFor() {
    JsonObject stored = completion("hello there", null, null)
        .put("usage", new JsonObject().put("prompt_tokens", 3).put("completion_tokens", 2).put("total_tokens", 5));
    assertThat(SseReplay.chunks(stored, false)).allSatisfy(c -> assertThat(c.containsKey("usage")).isFalse());
    List<JsonObject> withUsage = SseReplay.chunks(stored, true);
    assertThat(withUsage.subList(0, withUsage.size() - 1)).allSatisfy(c -> assertThat(c.getValue("usage", "absent")).isNull());
    assertThat(withUsage.get(withUsage.size() - 1).getJsonObject("usage").getInteger("total_tokens")).isEqualTo(5);
  }
}
