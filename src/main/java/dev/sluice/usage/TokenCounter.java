package dev.sluice.usage;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Counts tokens the way OpenAI bills them, with jtokkit: our own model → encoding table (jtokkit's is stale:
 * it maps gpt-4.1 to cl100k and knows no o-series), {@code countTokensOrdinary} so user text containing special
 * tokens cannot throw, and the chat overhead of 3 tokens per message, 1 per name and 3 for the reply priming.
 * Models of other vendors are counted with o200k_base as an estimate. Encodings load eagerly (≈0.4 s), so build one
 * instance at startup and share it (jtokkit encodings are thread-safe).
 */
public final class TokenCounter {
  private final Encoding o200k;
  private final Encoding cl100k;

  /** The process-wide instance (encodings are immutable, so one copy serves every gateway); blocking on first use. */
  public static TokenCounter shared() {
    return Shared.INSTANCE;
  }

  /** Lazy holder: the JVM initialises it once, on first use (from startup code, never an event loop). */
  private static final class Shared {
    static final TokenCounter INSTANCE = new TokenCounter();
  }

  public TokenCounter() {
    EncodingRegistry registry = Encodings.newDefaultEncodingRegistry();
    this.o200k = registry.getEncoding(EncodingType.O200K_BASE);
    this.cl100k = registry.getEncoding(EncodingType.CL100K_BASE);
  }

  /** The encoding OpenAI uses for {@code model} (tiktoken's table, Aug 2026). */
  public Encoding encodingFor(String model) {
    String m = model == null ? "" : model.toLowerCase(java.util.Locale.ROOT);
    if (m.startsWith("gpt-4o") || m.startsWith("chatgpt-4o") || m.startsWith("gpt-4.1") || m.startsWith("gpt-4.5")
        || m.startsWith("gpt-5") || m.startsWith("o1") || m.startsWith("o3") || m.startsWith("o4")) {
      return o200k;
    }
    if (m.startsWith("gpt-4") || m.startsWith("gpt-3.5") || m.startsWith("text-embedding")) return cl100k;
    return o200k;
  }

  public int countText(String text, String model) {
    return text == null || text.isEmpty() ? 0 : encodingFor(model).countTokensOrdinary(text);
  }

  /** Prompt tokens of a chat request's {@code messages}, per the OpenAI cookbook formula. */
  public int countMessages(JsonArray messages, String model) {
    Encoding encoding = encodingFor(model);
    int tokens = 3;
    for (Object o : messages) {
      if (!(o instanceof JsonObject message)) continue;
      tokens += 3;
      for (String field : message.fieldNames()) {
        Object value = message.getValue(field);
        if (field.equals("name")) tokens += 1;
        tokens += count(encoding, value);
      }
    }
    return tokens;
  }

  /** Tokens of an embeddings {@code input}: a string, strings, or pre-tokenised integer arrays. */
  public int countInput(Object input, String model) {
    if (input instanceof String s) return countText(s, model);
    if (input instanceof JsonArray array) {
      int tokens = 0;
      for (Object item : array) {
        if (item instanceof String s) {
          tokens += countText(s, model);
        } else if (item instanceof JsonArray ids) {
          tokens += ids.size();
        } else if (item instanceof Number) {
          tokens += 1;
        }
      }
      return tokens;
    }
    return 0;
  }

  private static int count(Encoding encoding, Object value) {
    if (value instanceof String s) return encoding.countTokensOrdinary(s);
    if (value instanceof JsonArray parts) {
      int tokens = 0;
      for (Object part : parts) {
        if (part instanceof JsonObject p) {
          if (p.getValue("text") instanceof String text) tokens += encoding.countTokensOrdinary(text);
          // images, audio and files are billed by the provider by size; a fixed allowance keeps the estimate sane
          if (p.containsKey("image_url") || p.containsKey("input_audio") || p.containsKey("file")) tokens += 765;
        } else if (part instanceof String s) {
          tokens += encoding.countTokensOrdinary(s);
        }
      }
      return tokens;
    }
    if (value instanceof JsonObject || value instanceof JsonArray) return encoding.countTokensOrdinary(String.valueOf(value));
    return 0;
  }
}
