package dev.sluice.json;

/** Bytes that are not acceptable JSON; the message is safe to show to the sender. */
public final class JsonProblem extends RuntimeException {
  public enum Kind { INVALID, TOO_DEEP, DUPLICATE_KEY, NOT_OBJECT }

  private final Kind kind;

  public JsonProblem(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
