package dev.sluice.usage;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * At most one log line per cause per window, the next one saying how many were suppressed: a client that can trigger
 * an error on every request must not be able to turn it into megabytes of logs per second. Causes are short fixed
 * strings (an exception class, a code path), never client input; past {@link #MAX_CAUSES} they share one window.
 */
public final class RateLimitedLog {
  static final int MAX_CAUSES = 1000;

  private final Logger log;
  private final LongSupplier millis;
  private final long windowMillis;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  /** @param millis the clock (tests pass a manual one) */
  public RateLimitedLog(Logger log, long windowMillis, LongSupplier millis) {
    this.log = log;
    this.windowMillis = windowMillis;
    this.millis = millis;
  }

  public void error(String cause, String message, Throwable t) {
    long suppressed = permit(cause);
    if (suppressed >= 0) log.error(message + suffix(suppressed), t);
  }

  public void warn(String cause, String message) {
    long suppressed = permit(cause);
    if (suppressed >= 0) log.warn(message + suffix(suppressed));
  }

  private String suffix(long suppressed) {
    return suppressed == 0 ? "" : " (" + suppressed + " more like this suppressed in the last " + windowMillis / 1000 + " s)";
  }

  /** -1 to stay silent, else how many lines of this cause were suppressed since the last one written. */
  private long permit(String cause) {
    String key = windows.size() >= MAX_CAUSES && !windows.containsKey(cause) ? "(other)" : cause;
    Window w = windows.computeIfAbsent(key, k -> new Window());
    long now = millis.getAsLong();
    synchronized (w) {
      if (w.written && now - w.start < windowMillis) {
        w.suppressed++;
        return -1;
      }
      long suppressed = w.suppressed;
      w.written = true;
      w.start = now;
      w.suppressed = 0;
      return suppressed;
    }
  }

  private static final class Window {
    boolean written;
    long start;
    long suppressed;
  }
}
