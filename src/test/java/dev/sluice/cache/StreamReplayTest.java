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
}
