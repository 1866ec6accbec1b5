package dev.sluice.usage;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.ManualClock;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** One line per cause per window; the next line counts what was suppressed; causes do not silence each other. */
class RateLimitedLogTest {
  static final String LOGGER = "sluice.test.ratelimited";

  static {
    // LogCapture also listens on the root logger: without this each line would be captured twice
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(LOGGER)).setAdditive(false);
  }

  static String text(LogCapture logs, int i) {
    return logs.lines().get(i).text().lines().findFirst().orElseThrow();
  }

  @Test
  void aThousandErrorsOfOneCauseInAWindowWriteOneLineThenACount() {
    ManualClock clock = new ManualClock(1_000_000);
    RateLimitedLog log = new RateLimitedLog(LoggerFactory.getLogger(LOGGER), 60_000, clock::millis);
    try (LogCapture logs = LogCapture.start(Level.WARN, LOGGER)) {
      for (int i = 0; i < 1000; i++) log.error("java.lang.IllegalStateException", "boom", new IllegalStateException());
      assertThat(logs.lines()).hasSize(1);
      assertThat(text(logs, 0)).endsWith("] boom");

      clock.advanceMillis(59_999);
      log.error("java.lang.IllegalStateException", "boom", new IllegalStateException());
      assertThat(logs.lines()).hasSize(1);

      clock.advanceMillis(1);
      log.error("java.lang.IllegalStateException", "boom", new IllegalStateException());
      assertThat(logs.lines()).hasSize(2);
      assertThat(text(logs, 1)).endsWith("] boom (1000 more like this suppressed in the last 60 s)");
    }
  }

  @Test
  void eachCauseHasItsOwnWindow() {
    ManualClock clock = new ManualClock(0);
    RateLimitedLog log = new RateLimitedLog(LoggerFactory.getLogger(LOGGER), 60_000, clock::millis);
    try (LogCapture logs = LogCapture.start(Level.WARN, LOGGER)) {
      log.warn("a", "first a");
      log.warn("b", "first b");
      log.warn("a", "second a");
      assertThat(logs.lines()).hasSize(2);
      assertThat(text(logs, 0)).endsWith("] first a");
      assertThat(text(logs, 1)).endsWith("] first b");
    }
  }
}
