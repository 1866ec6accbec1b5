package dev.sluice.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;

/**
 * The small typed view the gateway needs of a request body, validated with OpenAI-style 400s.
 * Every field that admission turns into a reservation or a cost is type- and range-checked here, so no client
 * number reaches the arithmetic unbounded. The original JSON tree is kept for forwarding; unknown fields pass
 * through untouched.
 *
 * @param maxTokens the per-choice output limit the client asked for (the larger of {@code max_tokens} and
 *     {@code max_completion_tokens}: a provider may honour either), or 0 when it asked none
 * @param maxTokensParam which field {@link #maxTokens} came from, for error messages
 * @param choices {@code n}, 1 when absent
 */
record RequestView(String model, boolean stream, boolean includeUsage, boolean base64Embeddings, int maxTokens,
                   String maxTokensParam, int choices) {
  /** Fields that would let a client choose where we send our provider key (LiteLLM CVE-2024-6587). */
  private static final List<String> FORBIDDEN = List.of("api_base", "base_url", "api_key", "api_version",
      "custom_llm_provider", "organization");
  static final int MAX_CHOICES = 128;
  /** OpenAI's limit on the number of inputs of one embeddings request. */
  static final int MAX_EMBEDDING_INPUTS = 2048;
  private static final List<String> TOOL_CHOICES = List.of("none", "auto", "required");

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
    int choices = integer(body, "n", 1, MAX_CHOICES, 1);
    int maxTokens = integer(body, "max_tokens", 1, Integer.MAX_VALUE, 0);
    int maxCompletionTokens = integer(body, "max_completion_tokens", 1, Integer.MAX_VALUE, 0);
    number(body, "temperature", 0, 2);
    number(body, "top_p", 0, 1);
    tools(body);
    toolChoice(body);
    boolean includeUsage = false;
    Object options = body.getValue("stream_options");
    if (options != null) {
      if (!(options instanceof JsonObject o)) throw invalid("stream_options", "Invalid type for 'stream_options': expected an object.");
      includeUsage = Boolean.TRUE.equals(o.getValue("include_usage"));
    }
    boolean completionLarger = maxCompletionTokens >= maxTokens && maxCompletionTokens > 0;
    return new RequestView(model, stream, includeUsage, false, Math.max(maxTokens, maxCompletionTokens),
        completionLarger ? "max_completion_tokens" : "max_tokens", choices);
  }

  static RequestView embeddings(JsonObject body) {
    rejectForbidden(body);
    String model = model(body);
    Object input = body.getValue("input");
    if (!(input instanceof String) && !(input instanceof JsonArray)) {
      throw invalid("input", input == null ? "Missing required parameter: 'input'."
          : "Invalid type for 'input': expected a string or an array.");
    }
    if (input instanceof JsonArray items) embeddingInputs(items);
    Object format = body.getValue("encoding_format");
    if (format != null && !"float".equals(format) && !"base64".equals(format)) {
      throw invalid("encoding_format", "Invalid 'encoding_format': expected 'float' or 'base64'.");
    }
    integer(body, "dimensions", 1, Integer.MAX_VALUE, 0);
    return new RequestView(model, false, false, "base64".equals(format), 0, "max_tokens", 1);
  }

  /** string[], int[] or int[][], at most {@link #MAX_EMBEDDING_INPUTS} entries: what the token estimate can count. */
  private static void embeddingInputs(JsonArray items) {
    if (items.isEmpty()) throw invalid("input", "Invalid 'input': empty array. Expected an array with minimum length 1.");
    if (items.size() > MAX_EMBEDDING_INPUTS) {
      throw invalid("input", "Invalid 'input': array too long. Expected an array with maximum length "
          + MAX_EMBEDDING_INPUTS + ", but got an array with length " + items.size() + " instead.");
    }
    for (int i = 0; i < items.size(); i++) {
      Object item = items.getValue(i);
      boolean ok = item instanceof String || isInteger(item);
      if (item instanceof JsonArray tokens) {
        ok = !tokens.isEmpty();
        for (Object token : tokens) ok &= isInteger(token);
      }
      if (!ok) {
        throw invalid("input[" + i + "]", "Invalid 'input[" + i + "]': expected a string, a token id or an array of token ids.");
      }
    }
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

  /** An integer field within {@code [min, max]}, or {@code absent} when missing or null. Decimals such as 5.0 are refused. */
  private static int integer(JsonObject body, String field, int min, int max, int absent) {
    Object v = body.getValue(field);
    if (v == null) return absent;
    if (!isInteger(v)) throw wrongType(field, "an integer", v);
    BigInteger value = v instanceof BigInteger big ? big : BigInteger.valueOf(((Number) v).longValue());
    if (value.compareTo(BigInteger.valueOf(min)) < 0) {
      throw outOfRange(field, "integer below minimum value. Expected a value >= " + min, value);
    }
    if (value.compareTo(BigInteger.valueOf(max)) > 0) {
      throw outOfRange(field, "integer above maximum value. Expected a value <= " + max, value);
    }
    return value.intValue();
  }

  /** A number field within {@code [min, max]} when present and not null. */
  private static void number(JsonObject body, String field, double min, double max) {
    Object v = body.getValue(field);
    if (v == null) return;
    if (!(v instanceof Number n)) throw wrongType(field, "a number", v);
    double value = n.doubleValue(); // a 1000-digit number is ±Infinity here, so it is out of range too
    if (value < min) throw outOfRange(field, "decimal below minimum value. Expected a value >= " + (long) min, n);
    if (value > max) throw outOfRange(field, "decimal above maximum value. Expected a value <= " + (long) max, n);
  }

  private static void tools(JsonObject body) {
    Object v = body.getValue("tools");
    if (v == null) return;
    if (!(v instanceof JsonArray tools)) throw wrongType("tools", "an array", v);
    for (int i = 0; i < tools.size(); i++) {
      Object tool = tools.getValue(i);
      if (!(tool instanceof JsonObject)) throw wrongType("tools[" + i + "]", "an object", tool);
    }
  }

  private static void toolChoice(JsonObject body) {
    Object v = body.getValue("tool_choice");
    if (v == null || v instanceof JsonObject) return;
    if (!(v instanceof String s)) throw wrongType("tool_choice", "a string or an object", v);
    if (!TOOL_CHOICES.contains(s)) {
      throw ApiError.invalidRequest("invalid_value", "tool_choice", "Invalid value for 'tool_choice': '" + clip(s)
          + "'. Supported values are: 'none', 'auto', and 'required'; or an object naming a function.").asFailure();
    }
  }

  private static boolean isInteger(Object v) {
    return v instanceof Integer || v instanceof Long || v instanceof BigInteger || v instanceof Short || v instanceof Byte;
  }

  /** OpenAI's wording: {@code Invalid type for 'max_tokens': expected an integer, but got a string instead.} */
  private static ApiError.Failure wrongType(String field, String expected, Object got) {
    return ApiError.invalidRequest("invalid_type", field,
        "Invalid type for '" + field + "': expected " + expected + ", but got " + describe(got) + " instead.").asFailure();
  }

  private static ApiError.Failure outOfRange(String field, String what, Number got) {
    return ApiError.invalidRequest("invalid_value", field,
        "Invalid '" + field + "': " + what + ", but got " + clip(plain(got)) + " instead.").asFailure();
  }

  private static String describe(Object v) {
    if (v == null) return "null";
    if (v instanceof String) return "a string";
    if (v instanceof Boolean) return "a boolean";
    if (v instanceof JsonArray) return "an array";
    if (v instanceof JsonObject) return "an object";
    if (v instanceof Number) return isInteger(v) ? "an integer" : "a decimal number";
    return "an unsupported value";
  }

  private static String plain(Number n) {
    if (!(n instanceof Double || n instanceof Float)) return n.toString();
    double d = n.doubleValue();
    return Double.isInfinite(d) ? (d > 0 ? "a number too large to represent" : "a number too small to represent")
        : BigDecimal.valueOf(d).toPlainString();
  }

  /** Client text echoed in a message is kept short: a 1,000-digit number or a long string need not come back whole. */
  private static String clip(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "…";
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
