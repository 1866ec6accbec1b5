package dev.sluice.cache;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * Rebuilds the {@code chat.completion} a stream amounts to (content, refusal and tool calls per choice, finish
 * reasons, logprobs, usage), so a streamed answer can be cached and replayed later as JSON or SSE. Chunk logprobs
 * ({@code choices[].logprobs.content[]} and {@code .refusal[]}) are concatenated into the completion's
 * {@code choices[].logprobs}; a choice whose chunks carried none keeps {@code "logprobs": null}.
 */
public final class StreamAssembler {
  private static final int MAX_CHARS = 8 * 1024 * 1024;

  private static final class Choice {
    final StringBuilder content = new StringBuilder();
    StringBuilder refusal;
    final Map<Integer, JsonObject> toolCalls = new TreeMap<>();
    final Map<Integer, StringBuilder> arguments = new TreeMap<>();
    String finishReason;
    /** Token logprobs of the content and of the refusal, or null while no chunk carried any. */
    JsonArray contentLogprobs;
    JsonArray refusalLogprobs;
  }

  private final Map<Integer, Choice> choices = new TreeMap<>();
  private JsonObject head;
  private JsonObject usage;
  private int chars;
  private boolean overflow;

  public void add(JsonObject chunk) {
    if (head == null) head = chunk;
    if (chunk.getValue("usage") instanceof JsonObject u) usage = u;
    if (!(chunk.getValue("choices") instanceof JsonArray array)) return;
    for (Object o : array) {
      if (!(o instanceof JsonObject c)) continue;
      int index = c.getValue("index") instanceof Number n ? n.intValue() : 0;
      Choice choice = choices.computeIfAbsent(index, i -> new Choice());
      if (c.getValue("finish_reason") instanceof String f) choice.finishReason = f;
      if (c.getValue("logprobs") instanceof JsonObject logprobs) {
        if (logprobs.getValue("content") instanceof JsonArray tokens) {
          if (choice.contentLogprobs == null) choice.contentLogprobs = new JsonArray();
          addAll(choice.contentLogprobs, tokens);
        }
        if (logprobs.getValue("refusal") instanceof JsonArray tokens) {
          if (choice.refusalLogprobs == null) choice.refusalLogprobs = new JsonArray();
          addAll(choice.refusalLogprobs, tokens);
        }
      }
      if (!(c.getValue("delta") instanceof JsonObject delta)) continue;
      if (delta.getValue("content") instanceof String text) append(choice.content, text);
      if (delta.getValue("refusal") instanceof String text) {
        if (choice.refusal == null) choice.refusal = new StringBuilder();
        append(choice.refusal, text);
      }
      if (delta.getValue("tool_calls") instanceof JsonArray calls) {
        for (Object t : calls) {
          if (!(t instanceof JsonObject call)) continue;
          int k = call.getValue("index") instanceof Number n ? n.intValue() : 0;
          JsonObject acc = choice.toolCalls.computeIfAbsent(k, i -> new JsonObject().put("type", "function"));
          if (call.getValue("id") instanceof String id) acc.put("id", id);
          if (call.getValue("type") instanceof String type) acc.put("type", type);
          if (call.getValue("function") instanceof JsonObject f) {
            if (f.getValue("name") instanceof String name) acc.put("name", name);
            if (f.getValue("arguments") instanceof String args) append(choice.arguments.computeIfAbsent(k, i -> new StringBuilder()), args);
          }
        }
      }
    }
  }

  private void addAll(JsonArray target, JsonArray tokens) {
    chars += tokens.size() * 16; // logprob entries count against the size bound too
    if (chars > MAX_CHARS) {
      overflow = true;
      return;
    }
    for (Object token : tokens) target.add(token);
  }

  private void append(StringBuilder target, String text) {
    chars += text.length();
    if (chars > MAX_CHARS) {
      overflow = true;
      return;
    }
    target.append(text);
  }

  /** @return the assembled completion, or {@code null} when nothing arrived or it was too large to keep */
  public JsonObject completion() {
    if (head == null || overflow || choices.isEmpty()) return null;
    JsonArray out = new JsonArray();
    for (Map.Entry<Integer, Choice> e : choices.entrySet()) {
      Choice c = e.getValue();
      JsonObject message = new JsonObject().put("role", "assistant");
      message.put("content", c.toolCalls.isEmpty() || c.content.length() > 0 ? c.content.toString() : null);
      message.put("refusal", c.refusal == null ? null : c.refusal.toString());
      if (!c.toolCalls.isEmpty()) {
        JsonArray calls = new JsonArray();
        for (Map.Entry<Integer, JsonObject> t : c.toolCalls.entrySet()) {
          JsonObject acc = t.getValue();
          StringBuilder args = c.arguments.get(t.getKey());
          calls.add(new JsonObject().put("id", acc.getString("id")).put("type", acc.getString("type", "function"))
              .put("function", new JsonObject().put("name", acc.getString("name"))
                  .put("arguments", args == null ? "" : args.toString())));
        }
        message.put("tool_calls", calls);
      }
      JsonObject logprobs = c.contentLogprobs == null && c.refusalLogprobs == null ? null
          : new JsonObject().put("content", c.contentLogprobs).put("refusal", c.refusalLogprobs);
      out.add(new JsonObject().put("index", e.getKey()).put("message", message).put("logprobs", logprobs)
          .put("finish_reason", c.finishReason));
    }
    JsonObject completion = new JsonObject().put("id", head.getValue("id")).put("object", "chat.completion")
        .put("created", head.getValue("created")).put("model", head.getValue("model")).put("choices", out);
    if (usage != null) completion.put("usage", usage);
    if (head.containsKey("system_fingerprint")) completion.put("system_fingerprint", head.getValue("system_fingerprint"));
    return completion;
  }
}
