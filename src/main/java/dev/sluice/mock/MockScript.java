package dev.sluice.mock;

import dev.sluice.config.Durations;
import java.time.Duration;

/**
 * Per-request fault script for the mock, read from the upstream model name after an {@code @}:
 * {@code mock@status=500}, {@code mock@stall-after=3}, {@code mock@cut-after=3}, {@code mock@latency=50ms},
 * {@code mock@tps=1000}; several joined by commas. Only operators can set it (model names come from config), so
 * tenants cannot inject faults.
 *
 * @param status HTTP status to answer with instead of a completion (0 = none)
 * @param stallAfter stop sending after this many content chunks, keeping the connection open (-1 = never)
 * @param cutAfter drop the connection after this many content chunks (-1 = never)
 */
public record MockScript(Duration latency, int tokensPerSecond, int status, int stallAfter, int cutAfter) {

  public static MockScript parse(String model, Duration defaultLatency, int defaultTps) {
    Duration latency = defaultLatency;
    int tps = defaultTps;
    int status = 0;
    int stall = -1;
    int cut = -1;
    int at = model == null ? -1 : model.indexOf('@');
    if (at >= 0) {
      for (String directive : model.substring(at + 1).split(",")) {
        int eq = directive.indexOf('=');
        if (eq < 0) continue;
        String key = directive.substring(0, eq).trim();
        String value = directive.substring(eq + 1).trim();
        try {
          switch (key) {
            case "status" -> status = Integer.parseInt(value);
            case "stall-after" -> stall = Integer.parseInt(value);
            case "cut-after" -> cut = Integer.parseInt(value);
            case "latency" -> latency = Durations.parse(value);
            case "tps" -> tps = Math.max(1, Integer.parseInt(value));
            default -> { }
          }
        } catch (IllegalArgumentException ignored) {
          // an unparseable directive is ignored: the mock must never fail on its own script
        }
      }
    }
    return new MockScript(latency, tps, status, stall, cut);
  }

  /** The model name without its {@code @…} script, as the mock reports it back. */
  public static String baseModel(String model) {
    int at = model.indexOf('@');
    return at < 0 ? model : model.substring(0, at);
  }

  /** Milliseconds between stream chunks (one word each). */
  public long chunkIntervalMillis() {
    return Math.max(0, 1000L / tokensPerSecond);
  }
}
