package dev.sluice.config;

import java.time.Duration;

/** Validation helpers used by the config records' compact constructors; messages follow `field: value (expected: …)`. */
final class Checks {
  private Checks() {}

  static int positive(String field, Integer value, int fallback) {
    int v = value == null ? fallback : value;
    if (v <= 0) throw new IllegalArgumentException(field + ": " + v + " (expected: > 0)");
    return v;
  }

  static int nonNegative(String field, Integer value, int fallback) {
    int v = value == null ? fallback : value;
    if (v < 0) throw new IllegalArgumentException(field + ": " + v + " (expected: >= 0)");
    return v;
  }

  static int port(String field, Integer value, int fallback) {
    int v = value == null ? fallback : value;
    if (v < 0 || v > 65535) throw new IllegalArgumentException(field + ": " + v + " (expected: 0..65535)");
    return v;
  }

  static Duration positive(String field, Duration value, Duration fallback) {
    Duration v = value == null ? fallback : value;
    if (v.isNegative() || v.isZero()) {
      throw new IllegalArgumentException(field + ": " + Durations.format(v) + " (expected: > 0, like 500ms or 30s)");
    }
    return v;
  }

  /** Money in USD within {@code 0..max}: bounded so that nano-USD arithmetic on it cannot overflow. */
  static Double nonNegativeMoney(String field, Double value, double max) {
    if (value == null) return null;
    if (value.isNaN() || value < 0 || value > max) {
      throw new IllegalArgumentException(field + ": " + value + " (expected: 0.." + java.math.BigDecimal.valueOf(max).stripTrailingZeros().toPlainString() + " USD)");
    }
    return value;
  }

  static String required(String field, String value) {
    if (value == null || value.isBlank()) throw new IllegalArgumentException(field + ": missing (expected: a non-empty string)");
    return value;
  }
}
