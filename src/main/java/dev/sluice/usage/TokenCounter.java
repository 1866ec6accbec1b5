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
 *
 * <p>Cost is bounded whatever the text: jtokkit needs ~100 bytes of heap and up to ~1.5 µs per character of one
 * unbroken "word" (a few MiB without whitespace would take the heap and seconds), so text is counted in slices of at
 * most {@value #SLICE} characters, cut just before whitespace (a cut changes the count by at most a token), or of
 * {@value #RUN_SLICE} inside a run without whitespace; and one call counts at most {@value #EXACT_CHARS} characters exactly, extrapolating the rest at the
 * tokens-per-character ratio seen so far (marked as an estimate by the callers: {@code usage_source: counted}).
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

  static final int SLICE = 4096;
  /** Slice length inside a run without whitespace, where jtokkit's cost per character grows with the run. */
  static final int RUN_SLICE = 256;
  static final int EXACT_CHARS = 256 * 1024;

  /** The exact-counting allowance of one call, and what it has counted so far (for the extrapolation ratio). */
  private static final class Budget {
    long chars;
    long tokens;
  }

  public int countText(String text, String model) {
    return text == null || text.isEmpty() ? 0 : count(encodingFor(model), text, new Budget());
  }

  private static int count(Encoding encoding, String text, Budget budget) {
    int n = text.length();
    if (n <= RUN_SLICE && budget.chars + n <= EXACT_CHARS) return exact(encoding, text, budget);
    int tokens = 0;
    int start = 0;
    while (start < n) {
      if (budget.chars >= EXACT_CHARS) {
        // extrapolate the rest at the ratio seen so far (budget.chars > 0 here)
        return tokens + (int) Math.ceil((double) budget.tokens / budget.chars * (n - start));
      }
      int end = sliceEnd(text, start);
      tokens += exact(encoding, text.substring(start, end), budget);
      start = end;
    }
    return tokens;
  }

  /**
   * Where the slice starting at {@code start} ends: before the last whitespace of a {@value #SLICE}-char window (the
   * whitespace starts the next slice, as it starts the next word); and a run without whitespace longer than
   * {@value #RUN_SLICE} is cut into pieces of that length, beginning a slice of its own.
   */
  private static int sliceEnd(String text, int start) {
    int n = text.length();
    int limit = Math.min(n, start + SLICE);
    int lastSpace = -1;
    int runStart = start;
    for (int i = start; i < limit; i++) {
      if (Character.isWhitespace(text.charAt(i))) {
        lastSpace = i;
        runStart = i + 1;
      } else if (i - runStart >= RUN_SLICE) {
        return keepSurrogatePairs(text, start, runStart > start ? runStart : i);
      }
    }
    if (limit == n) return n;
    return keepSurrogatePairs(text, start, lastSpace > start + SLICE / 2 ? lastSpace : limit);
  }

  private static int keepSurrogatePairs(String text, int start, int end) {
    return end - 1 > start && Character.isHighSurrogate(text.charAt(end - 1)) ? end - 1 : end;
  }

  private static int exact(Encoding encoding, String text, Budget budget) {
    int tokens = encoding.countTokensOrdinary(text);
    budget.chars += text.length();
    budget.tokens += tokens;
    return tokens;
  }

  /** Prompt tokens of a chat request's {@code messages}, per the OpenAI cookbook formula. */
  public int countMessages(JsonArray messages, String model) {
    Encoding encoding = encodingFor(model);
    Budget budget = new Budget();
    long tokens = 3;
    for (Object o : messages) {
      if (!(o instanceof JsonObject message)) continue;
      tokens += 3;
      for (String field : message.fieldNames()) {
        Object value = message.getValue(field);
        if (field.equals("name")) tokens += 1;
        tokens += count(encoding, value, budget);
      }
    }
    return saturated(tokens);
  }

  /** Tokens of an embeddings {@code input}: a string, strings, or pre-tokenised integer arrays. */
  public int countInput(Object input, String model) {
    Encoding encoding = encodingFor(model);
    Budget budget = new Budget();
    if (input instanceof String s) return count(encoding, s, budget);
    if (input instanceof JsonArray array) {
      long tokens = 0;
      for (Object item : array) {
        if (item instanceof String s) {
          tokens += count(encoding, s, budget);
        } else if (item instanceof JsonArray ids) {
          tokens += ids.size();
        } else if (item instanceof Number) {
          tokens += 1;
        }
      }
      return saturated(tokens);
    }
    return 0;
  }

  private static int count(Encoding encoding, Object value, Budget budget) {
    if (value instanceof String s) return count(encoding, s, budget);
    if (value instanceof JsonArray parts) {
      long tokens = 0;
      for (Object part : parts) {
        if (part instanceof JsonObject p) {
          if (p.getValue("text") instanceof String text) tokens += count(encoding, text, budget);
          // images, audio and files are billed by the provider by size; a fixed allowance keeps the estimate sane
          if (p.containsKey("image_url") || p.containsKey("input_audio") || p.containsKey("file")) tokens += 765;
        } else if (part instanceof String s) {
          tokens += count(encoding, s, budget);
        }
      }
      return saturated(tokens);
    }
    if (value instanceof JsonObject || value instanceof JsonArray) return count(encoding, String.valueOf(value), budget);
    return 0;
  }

  /** Sums are kept in a long and pinned at Integer.MAX_VALUE: 765 tokens per tiny image part must not wrap an int. */
  private static int saturated(long tokens) {
    return (int) Math.min(Integer.MAX_VALUE, tokens);
  }
}
