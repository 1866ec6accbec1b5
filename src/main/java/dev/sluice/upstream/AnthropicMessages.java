package dev.sluice.upstream;

import dev.sluice.json.JsonProblem;
import dev.sluice.json.StrictJson;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * OpenAI chat completions ↔ Anthropic Messages, request and non-streaming response. Requests the
 * Messages API cannot express are a 400 to the client, never a silently different request.
 */
final class AnthropicMessages {
  private AnthropicMessages() {}

  static JsonObject toAnthropic(JsonObject in, String model, int defaultMaxTokens, boolean stream) {
    if (in.getValue("n") instanceof Number n && n.intValue() != 1) throw invalid("n", "`n` must be 1 for this model.");
    JsonObject out = new JsonObject().put("model", model);
    StringBuilder system = new StringBuilder();
    JsonArray messages = new JsonArray();
    JsonArray toolResults = null;
    JsonArray input = in.getValue("messages") instanceof JsonArray a ? a : new JsonArray();
    for (int i = 0; i < input.size(); i++) {
      if (!(input.getValue(i) instanceof JsonObject m)) throw invalid("messages", "Each message must be an object.");
      String role = m.getValue("role") instanceof String r ? r : "";
      if (!role.equals("tool")) toolResults = null;
      switch (role) {
        case "system", "developer" -> {
          if (system.length() > 0) system.append('\n');
          system.append(text(m.getValue("content")));
        }
        case "user" -> messages.add(new JsonObject().put("role", "user").put("content", userContent(m.getValue("content"))));
        case "assistant" -> messages.add(new JsonObject().put("role", "assistant").put("content", assistantContent(m)));
        case "tool" -> {
          JsonObject result = new JsonObject().put("type", "tool_result")
              .put("tool_use_id", m.getValue("tool_call_id") instanceof String id ? id : "")
              .put("content", text(m.getValue("content")));
          // Consecutive tool messages answer one assistant turn: Anthropic wants them in one user message.
          if (toolResults == null) {
            toolResults = new JsonArray();
            messages.add(new JsonObject().put("role", "user").put("content", toolResults));
          }
          toolResults.add(result);
        }
        default -> throw invalid("messages", "Message role `" + role + "` is not supported for this model.");
      }
    }
    if (system.length() > 0) out.put("system", system.toString());
    out.put("messages", messages);
    Object max = in.getValue("max_completion_tokens") != null ? in.getValue("max_completion_tokens") : in.getValue("max_tokens");
    out.put("max_tokens", max instanceof Number n ? n.intValue() : defaultMaxTokens);
    Object stop = in.getValue("stop");
    if (stop instanceof String s) out.put("stop_sequences", new JsonArray().add(s));
    if (stop instanceof JsonArray a && !a.isEmpty()) out.put("stop_sequences", a.copy());
    // OpenAI's 0–2 range; Anthropic's is 0–1 (its own compat layer caps the same way).
    if (in.getValue("temperature") instanceof Number t) out.put("temperature", Math.min(1.0, t.doubleValue()));
    if (in.getValue("top_p") instanceof Number p) out.put("top_p", p);
    Object user = in.getValue("user") != null ? in.getValue("user") : in.getValue("safety_identifier");
    if (user instanceof String u) out.put("metadata", new JsonObject().put("user_id", u));
    boolean noTools = true;
    if (in.getValue("tools") instanceof JsonArray tools && !tools.isEmpty()) {
      JsonArray converted = new JsonArray();
      for (int i = 0; i < tools.size(); i++) {
        if (!(tools.getValue(i) instanceof JsonObject t) || !(t.getValue("function") instanceof JsonObject f)) {
          throw invalid("tools", "Only function tools are supported for this model.");
        }
        JsonObject tool = new JsonObject().put("name", f.getValue("name"));
        if (f.getValue("description") != null) tool.put("description", f.getValue("description"));
        tool.put("input_schema", f.getValue("parameters") instanceof JsonObject p ? p : new JsonObject().put("type", "object"));
        converted.add(tool);
      }
      out.put("tools", converted);
      noTools = false;
    }
    JsonObject choice = toolChoice(in.getValue("tool_choice"));
    if (Boolean.FALSE.equals(in.getValue("parallel_tool_calls")) && !noTools) {
      if (choice == null) choice = new JsonObject().put("type", "auto");
      if (!"none".equals(choice.getString("type"))) choice.put("disable_parallel_tool_use", true);
    }
    if (choice != null && !noTools) out.put("tool_choice", choice);
    if (stream) out.put("stream", true);
    return out;
  }

  private static JsonObject toolChoice(Object choice) {
    if (choice == null) return null;
    if (choice instanceof String s) {
      return switch (s) {
        case "auto" -> new JsonObject().put("type", "auto");
        case "required" -> new JsonObject().put("type", "any");
        case "none" -> new JsonObject().put("type", "none");
        default -> throw invalid("tool_choice", "`tool_choice` `" + s + "` is not supported.");
      };
    }
    if (choice instanceof JsonObject o && o.getValue("function") instanceof JsonObject f && f.getValue("name") instanceof String name) {
      return new JsonObject().put("type", "tool").put("name", name);
    }
    throw invalid("tool_choice", "`tool_choice` must be auto, required, none or a function.");
  }

  /** The text of a string or of the text parts of a content array. */
  private static String text(Object content) {
    if (content instanceof String s) return s;
    if (!(content instanceof JsonArray parts)) return "";
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < parts.size(); i++) {
      if (parts.getValue(i) instanceof JsonObject p && p.getValue("text") instanceof String t) text.append(t);
    }
    return text.toString();
  }

  private static Object userContent(Object content) {
    if (content instanceof String s) return s;
    if (!(content instanceof JsonArray parts)) throw invalid("messages", "User message content must be a string or an array.");
    JsonArray blocks = new JsonArray();
    for (int i = 0; i < parts.size(); i++) {
      JsonObject part = parts.getValue(i) instanceof JsonObject p ? p : new JsonObject();
      String type = part.getValue("type") instanceof String t ? t : "";
      switch (type) {
        case "text" -> blocks.add(new JsonObject().put("type", "text").put("text", part.getValue("text")));
        case "image_url" -> blocks.add(image(part.getValue("image_url")));
        default -> throw invalid("messages", "Content part type `" + type + "` is not supported for this model.");
      }
    }
    return blocks;
  }

  private static JsonObject image(Object imageUrl) {
    String url = imageUrl instanceof JsonObject o && o.getValue("url") instanceof String u ? u : "";
    JsonObject source;
    if (url.startsWith("data:")) {
      int comma = url.indexOf(',');
      String meta = comma < 0 ? "" : url.substring(5, comma);
      if (!meta.endsWith(";base64")) throw invalid("messages", "Image data URLs must be base64-encoded.");
      source = new JsonObject().put("type", "base64").put("media_type", meta.substring(0, meta.length() - 7))
          .put("data", url.substring(comma + 1));
    } else if (url.startsWith("https://") || url.startsWith("http://")) {
      source = new JsonObject().put("type", "url").put("url", url);
    } else {
      throw invalid("messages", "Image URLs must be https or base64 data URLs.");
    }
    return new JsonObject().put("type", "image").put("source", source);
  }

  private static Object assistantContent(JsonObject m) {
    String text = text(m.getValue("content"));
    if (!(m.getValue("tool_calls") instanceof JsonArray calls) || calls.isEmpty()) return text;
    JsonArray blocks = new JsonArray();
    if (!text.isEmpty()) blocks.add(new JsonObject().put("type", "text").put("text", text));
    for (int i = 0; i < calls.size(); i++) {
      JsonObject call = calls.getValue(i) instanceof JsonObject c ? c : new JsonObject();
      JsonObject function = call.getValue("function") instanceof JsonObject f ? f : new JsonObject();
      String arguments = function.getValue("arguments") instanceof String a && !a.isBlank() ? a : "{}";
      JsonObject input;
      try {
        input = StrictJson.parseObject(arguments);
      } catch (JsonProblem e) {
        throw invalid("messages", "Tool call arguments must be a JSON object.");
      }
      blocks.add(new JsonObject().put("type", "tool_use").put("id", call.getValue("id"))
          .put("name", function.getValue("name")).put("input", input));
    }
    return blocks;
  }

  /** A non-streaming Messages response as a chat completion. */
  static JsonObject toOpenAi(JsonObject msg, String fallbackModel, long created) {
    StringBuilder text = new StringBuilder();
    JsonArray calls = new JsonArray();
    JsonArray content = msg.getValue("content") instanceof JsonArray c ? c : new JsonArray();
    for (int i = 0; i < content.size(); i++) {
      if (!(content.getValue(i) instanceof JsonObject block)) continue;
      String type = block.getValue("type") instanceof String t ? t : "";
      if (type.equals("text") && block.getValue("text") instanceof String t) text.append(t);
      if (type.equals("tool_use")) {
        Object input = block.getValue("input");
        calls.add(new JsonObject().put("id", block.getValue("id")).put("type", "function").put("function",
            new JsonObject().put("name", block.getValue("name"))
                .put("arguments", input == null ? "{}" : io.vertx.core.json.Json.encode(input))));
      }
    }
    JsonObject message = new JsonObject().put("role", "assistant")
        .put("content", text.length() == 0 && !calls.isEmpty() ? null : text.toString()).putNull("refusal");
    if (!calls.isEmpty()) message.put("tool_calls", calls);
    JsonObject usage = usage(msg.getValue("usage") instanceof JsonObject u ? u : new JsonObject());
    return new JsonObject()
        .put("id", msg.getValue("id") instanceof String id ? id : "msg")
        .put("object", "chat.completion")
        .put("created", created)
        .put("model", msg.getValue("model") instanceof String m ? m : fallbackModel)
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("message", message)
            .putNull("logprobs").put("finish_reason", finishReason(msg.getValue("stop_reason")))))
        .put("usage", usage);
  }

  static String finishReason(Object stopReason) {
    if (!(stopReason instanceof String s)) return "stop";
    return switch (s) {
      case "max_tokens", "model_context_window_exceeded" -> "length";
      case "tool_use" -> "tool_calls";
      case "refusal" -> "content_filter";
      default -> "stop"; // end_turn, stop_sequence, pause_turn and anything newer
    };
  }

  /** Anthropic's input_tokens excludes cache reads and writes; OpenAI's prompt_tokens includes them. */
  static JsonObject usage(JsonObject u) {
    long input = count(u, "input_tokens");
    long created = count(u, "cache_creation_input_tokens");
    long read = count(u, "cache_read_input_tokens");
    long output = count(u, "output_tokens");
    long prompt = input + created + read;
    return new JsonObject().put("prompt_tokens", prompt).put("completion_tokens", output)
        .put("total_tokens", prompt + output)
        .put("prompt_tokens_details", new JsonObject().put("cached_tokens", read)
            .put("cache_creation_input_tokens", created));
  }

  private static long count(JsonObject u, String field) {
    return u.getValue(field) instanceof Number n ? n.longValue() : 0;
  }

  static UpstreamFailure invalid(String param, String message) {
    return UpstreamFailure.status(400, new JsonObject().put("message", message).put("type", "invalid_request_error")
        .put("param", param).putNull("code"), -1);
  }
}
