package dev.sluice.testing;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Bounded waits for conditions, polled on a Vert.x timer (no sleeping on the JUnit thread). */
public final class Await {
  private Await() {}

  /** Returns once {@code condition} holds; fails with {@code what} if it does not within {@code timeout}. */
  public static void until(Vertx vertx, Duration timeout, String what, BooleanSupplier condition) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    long timer = vertx.setPeriodic(1, 10, id -> {
      if (condition.getAsBoolean()) done.complete(null);
    });
    try {
      done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what);
    } finally {
      vertx.cancelTimer(timer);
    }
  }

  /** Fails with {@code what} if {@code condition} becomes true within {@code window}; otherwise returns after it. */
  public static void never(Vertx vertx, Duration window, String what, BooleanSupplier condition) throws Exception {
    CompletableFuture<Void> happened = new CompletableFuture<>();
    long timer = vertx.setPeriodic(1, 10, id -> {
      if (condition.getAsBoolean()) happened.complete(null);
    });
    try {
      happened.get(window.toMillis(), TimeUnit.MILLISECONDS);
      throw new AssertionError("within " + window.toMillis() + " ms: " + what);
    } catch (TimeoutException expected) {
      // the condition stayed false for the whole window
    } finally {
      vertx.cancelTimer(timer);
    }
  }
}
