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
}
