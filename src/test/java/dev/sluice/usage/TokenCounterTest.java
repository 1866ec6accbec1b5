package dev.sluice.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Matches OpenAI's published counts for the cookbook's example conversation. */
class TokenCounterTest {
  static final TokenCounter COUNTER = new TokenCounter();

  static JsonArray cookbookMessages() {
    return new JsonArray()
        .add(new JsonObject().put("role", "system").put("content",
            "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."))
        .add(new JsonObject().put("role", "system").put("name", "example_user").put("content",
            "New synergies will help drive top-line growth."))
        .add(new JsonObject().put("role", "system").put("name", "example_assistant").put("content",
            "Things working well together will increase revenue."))
        .add(new JsonObject().put("role", "system").put("name", "example_user").put("content",
            "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."))
        .add(new JsonObject().put("role", "system").put("name", "example_assistant").put("content",
            "Let's talk later when we're less busy about how to do better."))
        .add(new JsonObject().put("role", "user").put("content",
            "This late pivot means we don't have time to boil the ocean for the client deliverable."));
  }

  @Test
  void cookbookExampleIs129TokensForGpt4() {
    assertThat(COUNTER.countMessages(cookbookMessages(), "gpt-4")).isEqualTo(129);
  }

  @Test
  void cookbookExampleIs124TokensForGpt4o() {
    assertThat(COUNTER.countMessages(cookbookMessages(), "gpt-4o")).isEqualTo(124);
    assertThat(COUNTER.countMessages(cookbookMessages(), "gpt-4.1-mini")).as("o200k, not jtokkit's stale cl100k").isEqualTo(124);
  }

  @Test
  void specialTokensInUserTextAreCountedAsText() {
    assertThat(COUNTER.countText("<|endoftext|>", "gpt-4o")).isPositive();
  }

  static int unsliced(String text) {
    return com.knuddels.jtokkit.Encodings.newDefaultEncodingRegistry()
        .getEncoding(com.knuddels.jtokkit.api.EncodingType.O200K_BASE).countTokensOrdinary(text);
  }

  @Test
  void longProseCountedInSlicesMatchesTheWholeCountWithinATenthOfAPercent() {
    String prose = "Sluice streams the answer back, one event at a time, and bills what was delivered — naïve café "
        + "owners 🤖 say “thanks”. ";
    String text = prose.repeat(2000); // ≈ 230 k characters: hundreds of slices, under the exact-count allowance
    int whole = unsliced(text);
    assertThat((double) COUNTER.countText(text, "gpt-4o")).isCloseTo(whole, org.assertj.core.data.Percentage.withPercentage(0.1));
  }

  @Test
  void hugeTextWithoutWhitespaceIsCountedInBoundedWorkAndExtrapolated() {
    // 4 MiB of one "word": whole, jtokkit would need ~100 bytes of heap per character; a run of x is 8 per token
    String word = "x".repeat(4 << 20);
    assertThat((double) COUNTER.countText(word, "gpt-4o")).isCloseTo((4 << 20) / 8.0,
        org.assertj.core.data.Percentage.withPercentage(1));
    JsonArray messages = new JsonArray().add(new JsonObject().put("role", "user").put("content", word))
        .add(new JsonObject().put("role", "user").put("content", "x".repeat(1 << 20)));
    assertThat((double) COUNTER.countMessages(messages, "gpt-4o")).isCloseTo((5 << 20) / 8.0,
        org.assertj.core.data.Percentage.withPercentage(1));
  }

  @Test
  void millionsOfTinyImagePartsPinTheCountInsteadOfWrappingIt() {
    io.vertx.core.json.JsonObject image = new io.vertx.core.json.JsonObject().put("image_url", 1);
    io.vertx.core.json.JsonArray parts = new io.vertx.core.json.JsonArray();
    for (int i = 0; i < 3_000_000; i++) parts.add(image); // 3M × 765 > Integer.MAX_VALUE
    io.vertx.core.json.JsonArray messages = new io.vertx.core.json.JsonArray()
        .add(new io.vertx.core.json.JsonObject().put("role", "user").put("content", parts));
    assertThat(COUNTER.countMessages(messages, "gpt-4o")).isEqualTo(Integer.MAX_VALUE);
  }
}
