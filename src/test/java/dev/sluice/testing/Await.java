package dev.sluice.testing;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Bounded waits for conditions. A Vert.x timer ticks every 10 ms and the condition is evaluated on the calling
 * (JUnit) thread at each tick, so conditions may block (HTTP calls, {@code Future.await()}) and nothing sleeps.
 */
public final class Await {
  /** A condition that may throw (an HTTP call, a redis-cli command): a throw fails the wait at once. */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }

  private Await() {}

  /** Returns once {@code condition} holds; fails with {@code what} if it does not within {@code timeout}. */
  public static void until(Vertx vertx, Duration timeout, String what, Condition condition) throws Exception {
    if (!poll(vertx, timeout, condition)) throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what);
  }

  /** Fails with {@code what} if {@code condition} becomes true within {@code window}; otherwise returns after it. */
  public static void never(Vertx vertx, Duration window, String what, Condition condition) throws Exception {
    if (poll(vertx, window, condition)) throw new AssertionError("within " + window.toMillis() + " ms: " + what);
  }

  private static boolean poll(Vertx vertx, Duration window, Condition condition) throws Exception {
    LinkedBlockingQueue<Long> ticks = new LinkedBlockingQueue<>();
    long timer = vertx.setPeriodic(1, 10, ticks::offer);
    long deadline = System.nanoTime() + window.toNanos();
    try {
      while (true) {
        if (condition.holds()) return true;
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) return false;
        ticks.poll(remaining, TimeUnit.NANOSECONDS);
        ticks.clear();
      }
    } finally {
      vertx.cancelTimer(timer);
    }
  }
}
