package dev.sluice.testing;

import dev.sluice.testing.FakeUpstream.Scripts;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** SSE frames for scripting {@link FakeUpstream} streams, and helpers to read the events a client received. */
public final class Sse {
  public static final String MODEL = "upstream-mini";
  public static final String DONE = "data: [DONE]\n\n";
  public static final String PING = ": ping\n\n";

  private Sse() {}

  public static String role() {
    return Scripts.data(Scripts.chunk(MODEL, new JsonObject().put("role", "assistant").put("content", ""), null));
  }

  public static String content(String piece) {
    return Scripts.data(Scripts.chunk(MODEL, new JsonObject().put("content", piece), null));
  }

  public static String finish() {
    return Scripts.data(Scripts.chunk(MODEL, new JsonObject(), "stop"));
  }

  /** A role chunk then {@code n - 1} content chunks "w1 ", "w2 ", …: {@code n} data events in all. */
  public static List<String> chunks(int n) {
    List<String> out = new ArrayList<>();
    out.add(role());
    for (int i = 1; i < n; i++) out.add(content("w" + i + " "));
    return out;
  }

  /** {@code first}, then {@code rest} repeated {@code times}. */
  public static List<String> concat(List<String> first, String rest, int times) {
    List<String> out = new ArrayList<>(first);
    out.addAll(Collections.nCopies(times, rest));
    return out;
  }

  public static List<String> concat(List<String> first, String... rest) {
    List<String> out = new ArrayList<>(first);
    out.addAll(List.of(rest));
    return out;
  }

  /** The JSON of a {@code data: {...}} event, or null for comments and {@code [DONE]}. */
  public static JsonObject json(String event) {
    if (!event.startsWith("data: {")) return null;
    return new JsonObject(event.substring("data: ".length()));
  }

  public static boolean isData(String event) {
    return event.startsWith("data:");
  }

  /** Whether the event is a data event carrying a usage object. */
  public static boolean hasUsage(String event) {
    JsonObject json = json(event);
    return json != null && json.getValue("usage") instanceof JsonObject;
  }

  /** The {@code code} of an in-band error event, or null. */
  public static String errorCode(String event) {
    JsonObject json = json(event);
    return json == null || json.getJsonObject("error") == null ? null : json.getJsonObject("error").getString("code");
  }

  /** The content pieces of the data events, in order. */
  public static List<String> contents(List<String> events) {
    List<String> out = new ArrayList<>();
    for (String e : events) {
      JsonObject json = json(e);
      if (json == null || json.getJsonArray("choices") == null || json.getJsonArray("choices").isEmpty()) continue;
      String piece = json.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content");
      if (piece != null && !piece.isEmpty()) out.add(piece);
    }
    return out;
  }
}
