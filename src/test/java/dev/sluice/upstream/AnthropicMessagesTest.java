package dev.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The OpenAI → Anthropic request and response mappings, case by case. */
class AnthropicMessagesTest {
  static JsonObject request(JsonObject extra) {
    JsonObject tools = new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "f"));
    return new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))
        .put("tools", new JsonArray().add(tools)).mergeIn(extra);
  }

  static JsonObject translate(JsonObject extra) {
    return AnthropicMessages.toAnthropic(request(extra), "claude", 4096, false);
  }

  @Test
  void toolChoicesMap() {
    assertThat(translate(new JsonObject().put("tool_choice", "auto")).getJsonObject("tool_choice"))
        .isEqualTo(new JsonObject().put("type", "auto"));
    assertThat(translate(new JsonObject().put("tool_choice", "none")).getJsonObject("tool_choice"))
        .isEqualTo(new JsonObject().put("type", "none"));
    assertThat(translate(new JsonObject().put("tool_choice", new JsonObject().put("type", "function")
        .put("function", new JsonObject().put("name", "f")))).getJsonObject("tool_choice"))
        .isEqualTo(new JsonObject().put("type", "tool").put("name", "f"));
    assertThat(translate(new JsonObject().put("parallel_tool_calls", false)).getJsonObject("tool_choice"))
        .isEqualTo(new JsonObject().put("type", "auto").put("disable_parallel_tool_use", true));
    assertThat(translate(new JsonObject()).containsKey("tool_choice")).isFalse();
    // Input schema defaults to an empty object schema when the function declares no parameters.
    assertThat(translate(new JsonObject()).getJsonArray("tools").getJsonObject(0).getJsonObject("input_schema"))
        .isEqualTo(new JsonObject().put("type", "object"));
  }

  @Test
  void maxTokensPrefersMaxCompletionTokensThenMaxTokensThenTheDefault() {
    assertThat(translate(new JsonObject().put("max_completion_tokens", 7).put("max_tokens", 9)).getInteger("max_tokens")).isEqualTo(7);
    assertThat(translate(new JsonObject().put("max_tokens", 9)).getInteger("max_tokens")).isEqualTo(9);
    assertThat(translate(new JsonObject()).getInteger("max_tokens")).isEqualTo(4096);
    assertThat(translate(new JsonObject().put("stop", "X")).getJsonArray("stop_sequences")).isEqualTo(new JsonArray().add("X"));
    assertThat(translate(new JsonObject().put("temperature", 0.3)).getDouble("temperature")).isEqualTo(0.3);
  }

  @Test
  void unsupportedShapesAreBadRequests() {
    assertThatThrownBy(() -> translate(new JsonObject().put("n", 3)))
        .isInstanceOfSatisfying(UpstreamFailure.class, f -> assertThat(f.status()).isEqualTo(400));
    JsonObject badArgs = new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("role", "assistant")
        .put("tool_calls", new JsonArray().add(new JsonObject().put("id", "c").put("function",
            new JsonObject().put("name", "f").put("arguments", "{not json"))))));
    assertThatThrownBy(() -> AnthropicMessages.toAnthropic(badArgs, "claude", 10, false))
        .isInstanceOfSatisfying(UpstreamFailure.class, f -> assertThat(f.upstreamError().getString("param")).isEqualTo("messages"));
  }

  @Test
  void stopReasonsMap() {
    assertThat(AnthropicMessages.finishReason("end_turn")).isEqualTo("stop");
    assertThat(AnthropicMessages.finishReason("stop_sequence")).isEqualTo("stop");
    assertThat(AnthropicMessages.finishReason("max_tokens")).isEqualTo("length");
    assertThat(AnthropicMessages.finishReason("model_context_window_exceeded")).isEqualTo("length");
    assertThat(AnthropicMessages.finishReason("tool_use")).isEqualTo("tool_calls");
    assertThat(AnthropicMessages.finishReason("refusal")).isEqualTo("content_filter");
    assertThat(AnthropicMessages.finishReason("pause_turn")).isEqualTo("stop");
    assertThat(AnthropicMessages.finishReason(null)).isEqualTo("stop");
  }
}
