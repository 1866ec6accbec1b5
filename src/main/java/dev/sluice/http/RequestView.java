package dev.sluice.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The small typed view the gateway needs of a request body, validated with OpenAI-style 400s.
 * The original JSON tree is kept for forwarding; unknown fields pass through untouched.
 */
record RequestView(String model, boolean stream, boolean includeUsage, boolean base64Embeddings) {
  /** Fields that would let a client choose where we send our provider key (LiteLLM CVE-2024-6587). */
  private static final List<String> FORBIDDEN = List.of("api_base", "base_url", "api_key", "api_version",
      "custom_llm_provider", "organization");

  static RequestView chat(JsonObject body) {
    rejectForbidden(body);
    String model = model(body);
    Object messages = body.getValue("messages");
    if (!(messages instanceof JsonArray array)) {
      throw invalid("messages", messages == null ? "Missing required parameter: 'messages'."
          : "Invalid type for 'messages': expected an array of message objects.");
    }
    if (array.isEmpty()) throw invalid("messages", "Invalid 'messages': empty array. Expected an array with minimum length 1.");
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonObject message) || !(message.getValue("role") instanceof String)) {
        throw invalid("messages[" + i + "]", "Invalid 'messages[" + i + "]': expected an object with a string 'role'.");
      }
    }
    boolean stream = bool(body, "stream");
    Object n = body.getValue("n");
    if (n != null && (!(n instanceof Integer || n instanceof Long) || ((Number) n).longValue() < 1 || ((Number) n).longValue() > 128)) {
      throw invalid("n", "Invalid 'n': expected an integer between 1 and 128.");
    }
    boolean includeUsage = false;
    Object options = body.getValue("stream_options");
    if (options != null) {
      if (!(options instanceof JsonObject o)) throw invalid("stream_options", "Invalid type for 'stream_options': expected an object.");
      includeUsage = Boolean.TRUE.equals(o.getValue("include_usage"));
    }
    return new RequestView(model, stream, includeUsage, false);
  }

  static RequestView embeddings(JsonObject body) {
    rejectForbidden(body);
    String model = model(body);
    Object input = body.getValue("input");
    if (!(input instanceof String) && !(input instanceof JsonArray)) {
      throw invalid("input", input == null ? "Missing required parameter: 'input'."
          : "Invalid type for 'input': expected a string or an array.");
    }
    Object format = body.getValue("encoding_format");
    if (format != null && !"float".equals(format) && !"base64".equals(format)) {
      throw invalid("encoding_format", "Invalid 'encoding_format': expected 'float' or 'base64'.");
    }
    return new RequestView(model, false, false, "base64".equals(format));
  }

  private static String model(JsonObject body) {
    Object model = body.getValue("model");
    if (!(model instanceof String s) || s.isEmpty()) {
      throw invalid("model", model == null ? "you must provide a model parameter" : "Invalid type for 'model': expected a string.");
    }
    return s;
  }

  private static boolean bool(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) return false;
    if (!(v instanceof Boolean b)) throw invalid(field, "Invalid type for '" + field + "': expected a boolean.");
    return b;
  }

  private static void rejectForbidden(JsonObject body) {
    for (String field : FORBIDDEN) {
      if (body.containsKey(field)) {
        throw new ApiError(400, "invalid_request_error", "unsupported_parameter", field,
            "Unsupported parameter: '" + field + "'. Upstream endpoints and credentials are set by the gateway operator.",
            -1, false).asFailure();
      }
    }
  }

  private static ApiError.Failure invalid(String param, String message) {
    return ApiError.invalidRequest("invalid_request_error", param, message).asFailure();
  }
}
