package dev.sluice.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses config durations such as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or {@code 1m30s}. */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)");

  private Durations() {}

  /** @throws IllegalArgumentException for anything that is not a sequence of number+unit parts */
  public static Duration parse(String text) {
    String s = text == null ? "" : text.trim();
    if (s.isEmpty()) throw new IllegalArgumentException("empty duration");
    Matcher m = PART.matcher(s);
    long nanos = 0;
    int pos = 0;
    while (m.find() && m.start() == pos) {
      double amount = Double.parseDouble(m.group(1));
      double unitNanos = switch (m.group(2)) {
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        case "h" -> 3600e9;
        default -> 86400e9;
      };
      nanos += (long) (amount * unitNanos);
      pos = m.end();
    }
    if (pos != s.length()) throw new IllegalArgumentException("not a duration: " + s);
    return Duration.ofNanos(nanos);
  }

  /** Formats like Go's time.Duration ({@code 1s}, {@code 6m0s}, {@code 12ms}) as OpenAI's rate-limit headers do. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) return ms + "ms";
    long totalSeconds = ms / 1000;
    long millis = ms % 1000;
    long h = totalSeconds / 3600;
    long m = (totalSeconds % 3600) / 60;
    long s = totalSeconds % 60;
    String sec = millis == 0 ? s + "s" : String.format(java.util.Locale.ROOT, "%d.%03ds", s, millis).replaceAll("0+s$", "s");
    if (h > 0) return h + "h" + m + "m" + sec;
    if (m > 0) return m + "m" + sec;
    return sec;
  }
}
