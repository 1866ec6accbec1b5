package dev.sluice;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * After an {@link OutOfMemoryError} the process is never left half alive (an event loop dead, {@code /health/live}
 * silent): it halts with status 3, as {@code -XX:+ExitOnOutOfMemoryError} would, so the orchestrator restarts it. The
 * container image passes that JVM flag, which covers every allocation; a plain {@code java -jar} gets the same outcome
 * from here for any OutOfMemoryError that reaches a thread's end, Vert.x's exception handler, or a log call (Netty logs
 * the throwables it catches in its event loops instead of rethrowing them).
 */
public final class FatalErrors {
  private static final Logger LOG = LoggerFactory.getLogger(FatalErrors.class);
  static final int EXIT_STATUS = 3;
  /** One stack trace per exception class per minute (a client able to trigger one must not flood the logs). */
  private static final dev.sluice.usage.RateLimitedLog HANDLER_ERRORS =
      new dev.sluice.usage.RateLimitedLog(LOG, 60_000, System::currentTimeMillis);

  private FatalErrors() {}

  /** Installs every hook with {@code Runtime.halt} (no shutdown hooks: after an OOM they may hang). */
  public static void install(Vertx vertx) {
    IntConsumer halt = status -> Runtime.getRuntime().halt(status);
    installThreadHandler(halt);
    installVertxHandler(vertx, halt);
    installLogHook(halt);
    if (!exitOnOutOfMemoryFlag()) {
      LOG.info("-XX:+ExitOnOutOfMemoryError is not set: Sluice halts on any OutOfMemoryError it sees; pass the flag"
          + " (the container image does) to cover the ones libraries swallow silently");
    }
  }

  static boolean isFatal(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof OutOfMemoryError) return true;
    }
    return false;
  }

  static void installThreadHandler(IntConsumer halt) {
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
      if (isFatal(e)) halt(halt, "thread " + thread.getName());
      else if (previous != null) previous.uncaughtException(thread, e);
      else LOG.error("uncaught exception in thread {}", thread.getName(), e);
    });
  }

  static void installVertxHandler(Vertx vertx, IntConsumer halt) {
    vertx.exceptionHandler(e -> {
      if (isFatal(e)) halt(halt, "a Vert.x handler");
      else HANDLER_ERRORS.error(e.getClass().getName(), "unhandled exception in a Vert.x handler", e);
    });
  }

  /** @return the filter added to Logback (null when Logback is not the SLF4J backend) */
  static TurboFilter installLogHook(IntConsumer halt) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) return null;
    TurboFilter filter = new TurboFilter() {
      @Override
      public FilterReply decide(Marker marker, ch.qos.logback.classic.Logger logger, Level level, String format,
                                Object[] params, Throwable t) {
        Throwable thrown = t;
        if (thrown == null && params != null && params.length > 0 && params[params.length - 1] instanceof Throwable last) {
          thrown = last;
        }
        if (thrown != null && isFatal(thrown)) halt(halt, "logger " + logger.getName());
        return FilterReply.NEUTRAL;
      }
    };
    filter.start();
    context.addTurboFilter(filter);
    return filter;
  }

  private static void halt(IntConsumer halt, String where) {
    try {
      System.err.println("sluice: OutOfMemoryError in " + where + "; halting so the process is restarted");
    } catch (Throwable ignored) {
      // printing may itself fail without memory; halting matters more
    }
    halt.accept(EXIT_STATUS);
  }

  private static boolean exitOnOutOfMemoryFlag() {
    try {
      return ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
          .getVMOption("ExitOnOutOfMemoryError").getValue().equals("true");
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
