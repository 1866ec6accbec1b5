package dev.sluice.upstream;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One OpenAI-shaped stream event: the raw {@code data:} payload to forward byte-for-byte, and its parsed form for
 * inspection (usage, finish reasons). {@link #DONE} marks the terminating {@code [DONE]}.
 */
public record ChatChunk(String data, JsonObject json) {
  public static final ChatChunk DONE = new ChatChunk("[DONE]", null);

  public boolean isDone() {
    return this == DONE;
  }

  /** The usage-only chunk sent after the finish chunk when {@code include_usage} is set: no choices, a usage. */
  public boolean isUsageOnly() {
    if (json == null) return false;
    JsonArray choices = json.getJsonArray("choices");
    return (choices == null || choices.isEmpty()) && json.getValue("usage") instanceof JsonObject;
  }

  public JsonObject usage() {
    return json == null || !(json.getValue("usage") instanceof JsonObject u) ? null : u;
  }
}
