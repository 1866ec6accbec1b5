package dev.sluice.config;

import java.util.List;

/** Invalid configuration; each problem reads {@code path.to.field: problem (expected: …)} and never holds a secret. */
public final class ConfigException extends RuntimeException {
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(String.join("\n", problems), null, false, false);
    this.problems = List.copyOf(problems);
  }

  public ConfigException(String problem) {
    this(List.of(problem));
  }

  public List<String> problems() {
    return problems;
  }
}
