package dev.sluice.config;

import java.time.Duration;

/**
 * Upstream timeouts. {@code idle} is reset only by SSE {@code data:} events, never by comments;
 * {@code total} bounds a non-streaming call.
 */
public record ProviderTimeouts(Duration connect, Duration headers, Duration firstToken, Duration idle, Duration total) {
  public static final ProviderTimeouts DEFAULTS = new ProviderTimeouts(null, null, null, null, null);

  public ProviderTimeouts {
    connect = Checks.positive("connect", connect, Duration.ofSeconds(2));
    headers = Checks.positive("headers", headers, Duration.ofSeconds(30));
    firstToken = Checks.positive("first-token", firstToken, Duration.ofSeconds(120));
    idle = Checks.positive("idle", idle, Duration.ofSeconds(60));
    total = Checks.positive("total", total, Duration.ofSeconds(300));
  }
}
