package dev.sluice.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The wire dialect a provider speaks. */
public enum ProviderType {
  OPENAI("openai"), AZURE("azure"), ANTHROPIC("anthropic"), OPENAI_COMPATIBLE("openai-compatible"), MOCK("mock");

  private final String wireName;

  ProviderType(String wireName) {
    this.wireName = wireName;
  }

  @JsonValue
  public String wireName() {
    return wireName;
  }

  @JsonCreator
  public static ProviderType of(String name) {
    String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(t -> t.wireName.equals(n)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("type: " + name + " (expected: one of "
            + Arrays.stream(values()).map(ProviderType::wireName).collect(Collectors.joining(" | ")) + ")"));
  }
}
