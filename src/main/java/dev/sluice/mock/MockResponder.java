package dev.sluice.mock;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic OpenAI-shaped answers: the same request always yields the same content, tool calls, finish reason
 * and usage. Honours JSON mode, tools (one call to the chosen function, then a text answer after the tool result),
 * {@code n}, and max tokens (finish reason {@code length}).
 */
public final class MockResponder {
  private MockResponder() {}

  /** What the mock will say, before it is shaped into a body or chunks. */
  public record Answer(List<String> pieces, String toolName, String toolArguments, String finishReason,
                       int promptTokens, int completionTokens, int choices) {
    public boolean isToolCall() {
      return toolName != null;
    }

    public String content() {
      return String.join("", pieces);
    }
  }

  public static Answer answer(JsonObject request) {
    JsonArray messages = request.getValue("messages") instanceof JsonArray m ? m : new JsonArray();
    int promptTokens = 3;
    for (Object o : messages) {
      if (o instanceof JsonObject message) promptTokens += 3 + (text(message.getValue("content")).length() + 3) / 4;
    }
    JsonObject last = messages.isEmpty() || !(messages.getValue(messages.size() - 1) instanceof JsonObject l) ? new JsonObject() : l;
    String said = truncate(text(last.getValue("content")), 200);
    int n = request.getValue("n") instanceof Number num ? Math.max(1, num.intValue()) : 1;
    Object maxValue = request.getValue("max_completion_tokens") != null ? request.getValue("max_completion_tokens") : request.getValue("max_tokens");
    int maxTokens = maxValue instanceof Number num ? Math.max(1, num.intValue()) : Integer.MAX_VALUE;

    JsonArray tools = request.getValue("tools") instanceof JsonArray t ? t : null;
    boolean toolsOff = "none".equals(request.getValue("tool_choice"));
    if (tools != null && !tools.isEmpty() && !toolsOff && !"tool".equals(last.getString("role"))) {
      String name = chosenTool(request, tools);
      String args = new JsonObject().put("input", said).encode();
      return new Answer(List.of(), name, args, "tool_calls", promptTokens, Math.max(1, (args.length() + 3) / 4), n);
    }
    String content;
    Object format = request.getValue("response_format") instanceof JsonObject f ? f.getValue("type") : null;
    if ("json_object".equals(format) || "json_schema".equals(format)) {
      content = new JsonObject().put("mock", true).put("echo", said).encode();
    } else if ("tool".equals(last.getString("role"))) {
      content = "The tool returned: " + said;
    } else {
      content = "This is a mock response from Sluice. You said: " + said;
    }
    List<String> pieces = words(content);
    String finish = "stop";
    if (pieces.size() > maxTokens) {
      pieces = new ArrayList<>(pieces.subList(0, maxTokens));
      finish = "length";
    }
    return new Answer(pieces, null, null, finish, promptTokens, pieces.size(), n);
  }

  /** A {@code chat.completion} body. */
  public static JsonObject completion(JsonObject request, String model, long created) {
    Answer answer = answer(request);
    JsonArray choices = new JsonArray();
    for (int i = 0; i < answer.choices(); i++) {
      JsonObject message = new JsonObject().put("role", "assistant");
      if (answer.isToolCall()) {
        message.putNull("content").put("tool_calls", new JsonArray().add(toolCall(answer, i)));
      } else {
        message.put("content", answer.content());
      }
      message.putNull("refusal");
      choices.add(new JsonObject().put("index", i).put("message", message).putNull("logprobs")
          .put("finish_reason", answer.finishReason()));
    }
    return new JsonObject().put("id", id(request)).put("object", "chat.completion").put("created", created)
        .put("model", model).put("choices", choices).put("usage", usage(answer, answer.choices()))
        .putNull("system_fingerprint");
  }

  /** The {@code chat.completion.chunk} objects of a stream, without {@code [DONE]}. */
  public static List<JsonObject> chunks(JsonObject request, String model, long created) {
    Answer answer = answer(request);
    boolean includeUsage = request.getValue("stream_options") instanceof JsonObject o && Boolean.TRUE.equals(o.getValue("include_usage"));
    String id = id(request);
    List<JsonObject> chunks = new ArrayList<>();
    for (int i = 0; i < answer.choices(); i++) {
      chunks.add(chunk(id, model, created, i, new JsonObject().put("role", "assistant").put("content", ""), null, includeUsage));
    }
    if (answer.isToolCall()) {
      for (int i = 0; i < answer.choices(); i++) {
        JsonObject first = new JsonObject().put("index", 0).put("id", toolCallId(answer, i)).put("type", "function")
            .put("function", new JsonObject().put("name", answer.toolName()).put("arguments", ""));
        chunks.add(chunk(id, model, created, i, new JsonObject().put("tool_calls", new JsonArray().add(first)), null, includeUsage));
        String args = answer.toolArguments();
        for (int p = 0; p < args.length(); p += 8) {
          JsonObject part = new JsonObject().put("index", 0)
              .put("function", new JsonObject().put("arguments", args.substring(p, Math.min(args.length(), p + 8))));
          chunks.add(chunk(id, model, created, i, new JsonObject().put("tool_calls", new JsonArray().add(part)), null, includeUsage));
        }
      }
    } else {
      for (String piece : answer.pieces()) {
        for (int i = 0; i < answer.choices(); i++) {
          chunks.add(chunk(id, model, created, i, new JsonObject().put("content", piece), null, includeUsage));
        }
      }
    }
    for (int i = 0; i < answer.choices(); i++) {
      chunks.add(chunk(id, model, created, i, new JsonObject(), answer.finishReason(), includeUsage));
    }
    if (includeUsage) {
      chunks.add(new JsonObject().put("id", id).put("object", "chat.completion.chunk").put("created", created)
          .put("model", model).put("choices", new JsonArray()).put("usage", usage(answer, answer.choices())));
    }
    return chunks;
  }

  /** An embeddings list; vectors are seeded by the input text. With {@code honourBase64}, base64 is returned when asked. */
  public static JsonObject embeddings(JsonObject request, String model, boolean honourBase64) {
    Object input = request.getValue("input");
    List<String> inputs = new ArrayList<>();
    if (input instanceof JsonArray array) {
      for (Object o : array) inputs.add(String.valueOf(o));
    } else {
      inputs.add(String.valueOf(input));
    }
    int dims = request.getValue("dimensions") instanceof Number d ? Math.max(1, Math.min(4096, d.intValue())) : 8;
    boolean base64 = honourBase64 && "base64".equals(request.getValue("encoding_format"));
    JsonArray data = new JsonArray();
    int tokens = 0;
    for (int i = 0; i < inputs.size(); i++) {
      float[] vector = vector(inputs.get(i), dims);
      tokens += Math.max(1, (inputs.get(i).length() + 3) / 4);
      Object embedding;
      if (base64) {
        ByteBuffer bytes = ByteBuffer.allocate(dims * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : vector) bytes.putFloat(f);
        embedding = Base64.getEncoder().encodeToString(bytes.array());
      } else {
        JsonArray floats = new JsonArray();
        for (float f : vector) floats.add((double) f);
        embedding = floats;
      }
      data.add(new JsonObject().put("object", "embedding").put("index", i).put("embedding", embedding));
    }
    return new JsonObject().put("object", "list").put("data", data).put("model", model)
        .put("usage", new JsonObject().put("prompt_tokens", tokens).put("total_tokens", tokens));
  }

  public static JsonObject error(int status) {
    String type = status == 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error";
    String code = status == 429 ? "rate_limit_exceeded" : null;
    return new JsonObject().put("error", new JsonObject().put("message", "Mock upstream error " + status)
        .put("type", type).putNull("param").put("code", code));
  }

  private static float[] vector(String text, int dims) {
    SplittableRandom random = new SplittableRandom(text.hashCode() * 31L + dims);
    float[] v = new float[dims];
    double norm = 0;
    for (int i = 0; i < dims; i++) {
      v[i] = (float) (random.nextDouble() * 2 - 1);
      norm += v[i] * v[i];
    }
    float scale = (float) (1 / Math.sqrt(norm));
    for (int i = 0; i < dims; i++) v[i] *= scale;
    return v;
  }

  private static JsonObject chunk(String id, String model, long created, int index, JsonObject delta, String finish, boolean includeUsage) {
    JsonObject choice = new JsonObject().put("index", index).put("delta", delta).putNull("logprobs").put("finish_reason", finish);
    JsonObject chunk = new JsonObject().put("id", id).put("object", "chat.completion.chunk").put("created", created)
        .put("model", model).putNull("system_fingerprint").put("choices", new JsonArray().add(choice));
    if (includeUsage) chunk.putNull("usage");
    return chunk;
  }

  private static JsonObject toolCall(Answer answer, int choice) {
    return new JsonObject().put("id", toolCallId(answer, choice)).put("type", "function")
        .put("function", new JsonObject().put("name", answer.toolName()).put("arguments", answer.toolArguments()));
  }

  private static String toolCallId(Answer answer, int choice) {
    return "call_mock" + Integer.toHexString((answer.toolArguments().hashCode() & 0xffffff) + choice);
  }

  private static JsonObject usage(Answer answer, int n) {
    int completion = answer.completionTokens() * n;
    return new JsonObject().put("prompt_tokens", answer.promptTokens()).put("completion_tokens", completion)
        .put("total_tokens", answer.promptTokens() + completion)
        .put("prompt_tokens_details", new JsonObject().put("cached_tokens", 0))
        .put("completion_tokens_details", new JsonObject().put("reasoning_tokens", 0));
  }

  private static String chosenTool(JsonObject request, JsonArray tools) {
    if (request.getValue("tool_choice") instanceof JsonObject choice && choice.getValue("function") instanceof JsonObject f
        && f.getValue("name") instanceof String name) {
      return name;
    }
    JsonObject first = tools.getValue(0) instanceof JsonObject t ? t : new JsonObject();
    JsonObject function = first.getValue("function") instanceof JsonObject f ? f : new JsonObject();
    return function.getValue("name") instanceof String name ? name : "tool";
  }

  private static String id(JsonObject request) {
    return "chatcmpl-mock" + Integer.toHexString(request.encode().hashCode());
  }

  static String text(Object content) {
    if (content instanceof String s) return s;
    if (content instanceof JsonArray parts) {
      StringBuilder sb = new StringBuilder();
      for (Object p : parts) {
        if (p instanceof JsonObject part && part.getValue("text") instanceof String t) sb.append(t);
      }
      return sb.toString();
    }
    return "";
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  private static List<String> words(String content) {
    List<String> pieces = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < content.length(); i++) {
      if (content.charAt(i) == ' ') {
        pieces.add(content.substring(start, i + 1));
        start = i + 1;
      }
    }
    if (start < content.length()) pieces.add(content.substring(start));
    return pieces;
  }
}
