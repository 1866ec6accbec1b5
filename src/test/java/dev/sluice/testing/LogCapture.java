package dev.sluice.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * Captures every log event (message, arguments, MDC, key-values and stack traces) of the root logger and of the given
 * non-additive loggers, at the given level, until closed. Levels are restored on close.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  /** One captured event: its logger and everything it would print. */
  public record Line(String logger, String text) {}

  private final List<Line> lines = new ArrayList<>();
  private final Map<Logger, Level> previousLevels = new LinkedHashMap<>();

  private LogCapture() {}

  public static LogCapture start(Level level, String... loggerNames) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogCapture capture = new LogCapture();
    capture.setContext(context);
    capture.setName("test-capture");
    capture.start();
    List<String> names = new ArrayList<>(Arrays.asList(loggerNames));
    names.add(0, Logger.ROOT_LOGGER_NAME);
    for (String name : names) {
      Logger logger = context.getLogger(name);
      capture.previousLevels.put(logger, logger.getLevel());
      logger.setLevel(level);
      logger.addAppender(capture);
    }
    return capture;
  }

  @Override
  protected void append(ILoggingEvent event) {
    StringBuilder text = new StringBuilder().append(event.getLevel()).append(' ').append(event.getLoggerName())
        .append(" [").append(event.getThreadName()).append("] ").append(event.getFormattedMessage());
    if (event.getArgumentArray() != null) text.append(" args=").append(Arrays.deepToString(event.getArgumentArray()));
    if (!event.getMDCPropertyMap().isEmpty()) text.append(" mdc=").append(event.getMDCPropertyMap());
    if (event.getKeyValuePairs() != null) text.append(" kv=").append(event.getKeyValuePairs());
    if (event.getThrowableProxy() != null) text.append('\n').append(ThrowableProxyUtil.asString(event.getThrowableProxy()));
    synchronized (this) {
      lines.add(new Line(event.getLoggerName(), text.toString()));
      notifyAll();
    }
  }

  public synchronized List<Line> lines() {
    return List.copyOf(lines);
  }

  /** Blocks (JUnit thread only) until {@code condition} holds for the captured lines. */
  public synchronized List<Line> await(Predicate<List<Line>> condition, Duration timeout) throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.test(lines)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) throw new TimeoutException("log condition not met; captured " + lines.size() + " lines");
      wait(Math.max(1, left / 1_000_000));
    }
    return List.copyOf(lines);
  }

  @Override
  public void close() {
    previousLevels.forEach((logger, level) -> {
      logger.detachAppender(this);
      logger.setLevel(level);
    });
    stop();
  }
}
