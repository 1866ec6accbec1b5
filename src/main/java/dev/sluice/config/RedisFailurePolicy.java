package dev.sluice.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What a tenant's limits do while Redis is unreachable. */
public enum RedisFailurePolicy {
  FAIL_OPEN, FAIL_CLOSED;

  @JsonValue
  public String wireName() {
    return this == FAIL_OPEN ? "fail-open" : "fail-closed";
  }

  @JsonCreator
  public static RedisFailurePolicy of(String name) {
    if ("fail-open".equals(name)) return FAIL_OPEN;
    if ("fail-closed".equals(name)) return FAIL_CLOSED;
    throw new IllegalArgumentException("on-redis-failure: " + name + " (expected: fail-open | fail-closed)");
  }
}
