package dev.sluice.cache;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a stored {@code chat.completion} back into the chunk sequence an OpenAI stream would have carried: a role
 * chunk, content (or tool-call deltas: the first with id, type and name, then the arguments), a finish chunk per
 * choice, and the usage chunk when the client asked for it. {@code [DONE]} is the caller's to write. Text is cut into
 * pieces on code-point boundaries only (a surrogate pair is never split across chunks, so each chunk is valid text on
 * its own); stored {@code logprobs} go out with the content pieces their tokens start in, so the chunks' entries
 * concatenate to the stored list. The {@code usage} member appears only when the client asked for usage.
 */
public final class SseReplay {
  private static final int PIECE = 64;

  private SseReplay() {}

  public static List<JsonObject> chunks(JsonObject completion, boolean includeUsage) {
    List<JsonObject> out = new ArrayList<>();
    JsonArray choices = completion.getValue("choices") instanceof JsonArray c ? c : new JsonArray();
    for (Object o : choices) {
      if (!(o instanceof JsonObject choice)) continue;
      int index = choice.getValue("index") instanceof Number n ? n.intValue() : 0;
      JsonObject message = choice.getValue("message") instanceof JsonObject m ? m : new JsonObject();
      JsonObject logprobs = choice.getValue("logprobs") instanceof JsonObject l ? l : null;
      out.add(chunk(completion, index, new JsonObject().put("role", "assistant").put("content", ""), null, includeUsage));
      if (message.getValue("content") instanceof String content) {
        JsonArray tokens = logprobs != null && logprobs.getValue("content") instanceof JsonArray t ? t : null;
        int token = 0;
        int tokenStart = 0; // UTF-16 offset in content where the next token starts
        for (int p = 0; p < content.length(); ) {
          int end = pieceEnd(content, p);
          JsonObject chunk = chunk(completion, index, new JsonObject().put("content", content.substring(p, end)), null, includeUsage);
          if (tokens != null) {
            JsonArray mine = new JsonArray();
            // tokens starting in this piece; the last piece takes any left (token texts need not add up exactly)
            while (token < tokens.size() && (tokenStart < end || end == content.length())) {
              Object entry = tokens.getValue(token++);
              mine.add(entry);
              tokenStart += entry instanceof JsonObject e && e.getValue("token") instanceof String text ? text.length() : 0;
            }
            chunk.getJsonArray("choices").getJsonObject(0).put("logprobs", new JsonObject().put("content", mine).putNull("refusal"));
          }
          out.add(chunk);
          p = end;
        }
      }
      if (message.getValue("refusal") instanceof String refusal) {
        JsonObject chunk = chunk(completion, index, new JsonObject().put("refusal", refusal), null, includeUsage);
        if (logprobs != null && logprobs.getValue("refusal") instanceof JsonArray tokens) {
          chunk.getJsonArray("choices").getJsonObject(0).put("logprobs", new JsonObject().putNull("content").put("refusal", tokens));
        }
        out.add(chunk);
      }
      if (message.getValue("tool_calls") instanceof JsonArray calls) {
        for (int k = 0; k < calls.size(); k++) {
          JsonObject call = calls.getJsonObject(k);
          JsonObject function = call.getJsonObject("function", new JsonObject());
          JsonObject first = new JsonObject().put("index", k).put("id", call.getString("id"))
              .put("type", call.getString("type", "function"))
              .put("function", new JsonObject().put("name", function.getString("name")).put("arguments", ""));
          out.add(chunk(completion, index, new JsonObject().put("tool_calls", new JsonArray().add(first)), null, includeUsage));
          String args = function.getString("arguments", "");
          for (int p = 0; p < args.length(); ) {
            int end = pieceEnd(args, p);
            JsonObject part = new JsonObject().put("index", k)
                .put("function", new JsonObject().put("arguments", args.substring(p, end)));
            out.add(chunk(completion, index, new JsonObject().put("tool_calls", new JsonArray().add(part)), null, includeUsage));
            p = end;
          }
        }
      }
      out.add(chunk(completion, index, new JsonObject(), choice.getString("finish_reason"), includeUsage));
    }
    if (includeUsage && completion.getValue("usage") instanceof JsonObject usage) {
      out.add(new JsonObject().put("id", completion.getValue("id")).put("object", "chat.completion.chunk")
          .put("created", completion.getValue("created")).put("model", completion.getValue("model"))
          .put("choices", new JsonArray()).put("usage", usage));
    }
    return out;
  }

  /** Where the piece starting at {@code start} ends: {@value #PIECE} UTF-16 units, one less if that would split a pair. */
  static int pieceEnd(String text, int start) {
    int end = Math.min(text.length(), start + PIECE);
    if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1)) && Character.isLowSurrogate(text.charAt(end))) {
      end--;
    }
    return end;
  }

  private static JsonObject chunk(JsonObject completion, int index, JsonObject delta, String finish, boolean includeUsage) {
    JsonObject chunk = new JsonObject().put("id", completion.getValue("id")).put("object", "chat.completion.chunk")
        .put("created", completion.getValue("created")).put("model", completion.getValue("model"))
        .put("choices", new JsonArray().add(new JsonObject().put("index", index).put("delta", delta).putNull("logprobs")
            .put("finish_reason", finish)));
    if (includeUsage) chunk.putNull("usage");
    return chunk;
  }

  /** Whether a completion may be stored: parseable, with choices that all finished with stop or tool_calls. */
  public static boolean isCompleteChat(JsonObject completion) {
    if (completion == null || !(completion.getValue("choices") instanceof JsonArray choices) || choices.isEmpty()) return false;
    for (Object o : choices) {
      if (!(o instanceof JsonObject choice)) return false;
      Object finish = choice.getValue("finish_reason");
      if (!"stop".equals(finish) && !"tool_calls".equals(finish)) return false;
    }
    return true;
  }

  public static boolean isCompleteEmbedding(JsonObject response) {
    return response != null && response.getValue("data") instanceof JsonArray data && !data.isEmpty();
  }
}
