package dev.sluice.testing;

import dev.sluice.testing.FakeUpstream.Script;
import dev.sluice.testing.FakeUpstream.Scripts;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link FakeUpstream} scripts in the wire formats of Anthropic's Messages API (JSON, named-event SSE, error
 * envelope) and Azure OpenAI (OpenAI shapes plus the leading {@code prompt_filter_results} chunk).
 */
public final class ProviderScripts {
  private ProviderScripts() {}

  // ---- Anthropic ----

  /** Usage as Anthropic reports it: input excludes cache reads and writes. */
  public static JsonObject anthropicUsage(int input, int output, int cacheCreation, int cacheRead) {
    return new JsonObject().put("input_tokens", input).put("cache_creation_input_tokens", cacheCreation)
        .put("cache_read_input_tokens", cacheRead).put("output_tokens", output);
  }

  /** A non-streaming Messages response with the given content blocks. */
  public static JsonObject message(JsonArray content, String stopReason, JsonObject usage) {
    return new JsonObject().put("id", "msg_01FakeXyz").put("type", "message").put("role", "assistant")
        .put("model", "claude-fake-1").put("content", content).put("stop_reason", stopReason).putNull("stop_sequence")
        .put("usage", usage);
  }

  public static JsonObject textBlock(String text) {
    return new JsonObject().put("type", "text").put("text", text);
  }

  public static JsonObject toolUseBlock(String id, String name, JsonObject input) {
    return new JsonObject().put("type", "tool_use").put("id", id).put("name", name).put("input", input);
  }

  /** Answers with {@code body} as a 200 JSON response. */
  public static Script anthropicJson(JsonObject body) {
    return ex -> Scripts.json(200, body).play(ex);
  }

  /** {@code {"type":"error","error":{type,message}}} with {@code status}, as Anthropic sends it. */
  public static Script anthropicError(int status, String type, String message) {
    return Scripts.json(status, new JsonObject().put("type", "error")
        .put("error", new JsonObject().put("type", type).put("message", message)).put("request_id", "req_fake"));
  }

  /** One named SSE event, exactly as Anthropic frames it. */
  public static String event(String type, JsonObject data) {
    return "event: " + type + "\ndata: " + data.put("type", type).encode() + "\n\n";
  }

  public static String messageStart(JsonObject usage) {
    JsonObject message = new JsonObject().put("id", "msg_01FakeStream").put("type", "message").put("role", "assistant")
        .put("model", "claude-fake-1").put("content", new JsonArray()).putNull("stop_reason").putNull("stop_sequence")
        .put("usage", usage);
    return event("message_start", new JsonObject().put("message", message));
  }

  public static String ping() {
    return event("ping", new JsonObject());
  }

  /** A text block at {@code index}: start (empty text), one text_delta per piece, stop. */
  public static List<String> textBlockEvents(int index, String... pieces) {
    List<String> out = new ArrayList<>();
    out.add(event("content_block_start", new JsonObject().put("index", index).put("content_block", textBlock(""))));
    for (String piece : pieces) {
      out.add(event("content_block_delta", new JsonObject().put("index", index)
          .put("delta", new JsonObject().put("type", "text_delta").put("text", piece))));
    }
    out.add(event("content_block_stop", new JsonObject().put("index", index)));
    return out;
  }

  /** A tool_use block at {@code index}: start (empty input), one input_json_delta per piece, stop. */
  public static List<String> toolUseBlockEvents(int index, String id, String name, String... jsonPieces) {
    List<String> out = new ArrayList<>();
    out.add(event("content_block_start", new JsonObject().put("index", index)
        .put("content_block", toolUseBlock(id, name, new JsonObject()))));
    for (String piece : jsonPieces) {
      out.add(event("content_block_delta", new JsonObject().put("index", index)
          .put("delta", new JsonObject().put("type", "input_json_delta").put("partial_json", piece))));
    }
    out.add(event("content_block_stop", new JsonObject().put("index", index)));
    return out;
  }

  public static String messageDelta(String stopReason, int outputTokens) {
    return event("message_delta", new JsonObject()
        .put("delta", new JsonObject().put("stop_reason", stopReason).putNull("stop_sequence"))
        .put("usage", new JsonObject().put("output_tokens", outputTokens)));
  }

  public static String messageStop() {
    return event("message_stop", new JsonObject());
  }

  public static String errorEvent(String type, String message) {
    return event("error", new JsonObject().put("error", new JsonObject().put("type", type).put("message", message)));
  }

  /** A whole text stream: message_start, ping, one text block, message_delta, message_stop. */
  public static List<String> textStream(JsonObject usage, String stopReason, String... pieces) {
    List<String> out = new ArrayList<>();
    out.add(messageStart(usage.copy().put("output_tokens", 1)));
    out.add(ping());
    out.addAll(textBlockEvents(0, pieces));
    out.add(messageDelta(stopReason, usage.getInteger("output_tokens")));
    out.add(messageStop());
    return out;
  }

  // ---- Azure ----

  /** Azure's first stream chunk: empty choices, empty id and model, only the prompt filter results. */
  public static String azureFilterChunk() {
    JsonObject filter = new JsonObject().put("prompt_index", 0).put("content_filter_results", new JsonObject()
        .put("hate", new JsonObject().put("filtered", false).put("severity", "safe")));
    return Scripts.data(new JsonObject().put("choices", new JsonArray()).put("created", 0).put("id", "").put("model", "")
        .put("object", "").put("prompt_filter_results", new JsonArray().add(filter)));
  }

  /** Azure chat: a completion, or a stream that opens with the filter chunk. */
  public static Script azureChat(String content) {
    return ex -> {
      if (Boolean.TRUE.equals(ex.body.getValue("stream"))) {
        List<String> frames = new ArrayList<>();
        frames.add(azureFilterChunk());
        frames.addAll(Scripts.events(ex, Scripts.words(content), "stop", true));
        Scripts.frames(frames, 0, true).play(ex);
      } else {
        Scripts.json(200, Scripts.completion(ex.model(), content, "stop")).play(ex);
      }
    };
  }
}
