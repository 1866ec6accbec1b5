package dev.sluice.upstream;

import dev.sluice.json.JsonProblem;
import dev.sluice.json.StrictJson;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Normalises provider error bodies to OpenAI's {@code {message, type, param, code}} object: OpenAI's own envelope,
 * and the flat shapes of vLLM/Ollama-style servers ({@code {"error": "text"}}, {@code {"message": …}},
 * {@code {"detail": …}}). Returns {@code null} for bodies that are not JSON (HTML error pages).
 */
final class ErrorBodies {
  private ErrorBodies() {}

  static JsonObject normalise(Buffer body) {
    JsonObject json;
    try {
      json = StrictJson.parseObject(body);
    } catch (JsonProblem e) {
      return null;
    }
    Object error = json.getValue("error");
    if (error instanceof JsonObject e) {
      return envelope(e.getValue("message"), e.getValue("type"), e.getValue("param"), e.getValue("code"));
    }
    if (error instanceof String text) return envelope(text, json.getValue("type"), null, json.getValue("code"));
    if (json.getValue("message") != null) {
      return envelope(json.getValue("message"), json.getValue("type"), json.getValue("param"), json.getValue("code"));
    }
    if (json.getValue("detail") != null) return envelope(json.getValue("detail"), null, null, null);
    return null;
  }

  /**
   * Only OpenAI-style values survive: a type like {@code BadRequestError} (vLLM's exception class name) is dropped so
   * the status decides it, and a numeric code (vLLM echoes the HTTP status there) is not an OpenAI error code.
   */
  private static JsonObject envelope(Object message, Object type, Object param, Object code) {
    return new JsonObject()
        .put("message", message == null ? null : String.valueOf(message))
        .put("type", type instanceof String t && t.matches("[a-z_]{1,64}") ? t : null)
        .put("param", param instanceof String p ? p : null)
        .put("code", code instanceof String c ? c : null);
  }
}
