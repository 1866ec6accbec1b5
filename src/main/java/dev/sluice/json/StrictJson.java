package dev.sluice.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.Map;

/**
 * The one JSON parser for untrusted bytes (client bodies and upstream payloads): nesting depth ≤ 64 and duplicate
 * keys rejected, so our view of a request cannot differ from the provider's (parameter smuggling).
 */
public final class StrictJson {
  public static final int MAX_DEPTH = 64;

  private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
          .build())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private StrictJson() {}

  /** @throws JsonProblem when the bytes are not one JSON object within the limits */
  public static JsonObject parseObject(Buffer bytes) {
    return parseObject(bytes.getBytes());
  }

  public static JsonObject parseObject(String text) {
    try {
      return toObject(MAPPER.readValue(text, Object.class));
    } catch (IOException e) {
      throw problem(e);
    }
  }

  public static JsonObject parseObject(byte[] bytes) {
    try {
      return toObject(MAPPER.readValue(bytes, Object.class));
    } catch (IOException e) {
      throw problem(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static JsonObject toObject(Object value) {
    if (value instanceof Map<?, ?> map) return new JsonObject((Map<String, Object>) map);
    throw new JsonProblem(JsonProblem.Kind.NOT_OBJECT, "The request body must be a JSON object.");
  }

  private static JsonProblem problem(IOException e) {
    if (e instanceof StreamConstraintsException c) {
      // One exception type for every parser limit: say which one was hit; only a nesting violation is reported as one.
      String message = c.getOriginalMessage() == null ? "" : c.getOriginalMessage();
      if (message.startsWith("Number value length")) {
        return new JsonProblem(JsonProblem.Kind.INVALID, "A number in the JSON body is too long (more than "
            + StreamReadConstraints.DEFAULT_MAX_NUM_LEN + " digits).");
      }
      if (message.startsWith("String value length")) {
        return new JsonProblem(JsonProblem.Kind.INVALID, "A string in the JSON body is too long.");
      }
      if (message.startsWith("Name length")) {
        return new JsonProblem(JsonProblem.Kind.INVALID, "A key in the JSON body is too long.");
      }
      if (!message.contains("nesting depth")) {
        return new JsonProblem(JsonProblem.Kind.INVALID, "The JSON body exceeds a parser limit.");
      }
      return new JsonProblem(JsonProblem.Kind.TOO_DEEP, "JSON nesting is deeper than " + MAX_DEPTH + " levels.");
    }
    String original = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
    if (original != null && original.startsWith("Duplicate field")) {
      return new JsonProblem(JsonProblem.Kind.DUPLICATE_KEY, "Duplicate key in JSON object: "
          + original.substring("Duplicate field".length()).trim() + ".");
    }
    String location = e instanceof JsonProcessingException p && p.getLocation() != null
        ? " at line " + p.getLocation().getLineNr() + ", column " + p.getLocation().getColumnNr() : "";
    return new JsonProblem(JsonProblem.Kind.INVALID, "We could not parse the JSON body of your request" + location
        + ". (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)");
  }
}
