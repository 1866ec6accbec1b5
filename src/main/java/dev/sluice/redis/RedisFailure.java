package dev.sluice.redis;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import java.util.concurrent.TimeUnit;

/**
 * Whose fault a failed Redis call was. Only Redis's reasons (connection errors, error replies, no answer within a
 * timeout that fired on time) count against it; our own stalls, a full pool and our own bad arguments do not.
 */
public final class RedisFailure {
  private RedisFailure() {}

  /** The cause recorded by the breaker (no stack: it is a marker). */
  static final RuntimeException COUNTED = new RuntimeException("redis failure", null, false, false) {};

  /**
   * No reply within the command timeout. {@code ownStall}: our timer fired late, so this event loop was itself
   * stalled (GC pause, cold JIT, a long task) and the reply may have been waiting unread; not Redis's fault.
   */
  public static final class Timeout extends RuntimeException {
    public final boolean ownStall;

    Timeout(long millis, boolean ownStall) {
      super("no Redis reply within " + millis + " ms" + (ownStall ? " (our event loop was late)" : ""), null, false, false);
      this.ownStall = ownStall;
    }
  }

  /** No connection could be had, so the command was never sent (it certainly did not run). */
  public static final class NotSent extends RuntimeException {
    NotSent(Throwable cause) {
      super(String.valueOf(cause.getMessage()), cause, false, false);
    }
  }

  /** Whether the command may have run in Redis although we got no (good) reply: a timeout or a dropped connection. */
  public static boolean mayHaveRun(Throwable failure) {
    return !(failure instanceof NotSent) && !isBadArgument(failure) && !LuaScript.isCorruption(failure)
        && !failure.getClass().getSimpleName().equals("ErrorType") && !String.valueOf(failure.getMessage()).startsWith("ERR");
  }

  /** A script refused its arguments ({@code SLUICE_BADARG}): a bug on our side, never Redis being away. */
  public static boolean isBadArgument(Throwable failure) {
    return String.valueOf(failure.getMessage()).contains("SLUICE_BADARG");
  }

  /** The pool and its waiting queue are full: back-pressure from our own load, not an outage. */
  public static boolean isPoolBusy(Throwable failure) {
    Throwable cause = failure instanceof NotSent && failure.getCause() != null ? failure.getCause() : failure;
    return cause instanceof ConnectionPoolTooBusyException || String.valueOf(cause.getMessage()).contains("max wait queue");
  }

  /** The timeout fired only because our own event loop was late. */
  public static boolean isOwnStall(Throwable failure) {
    return failure instanceof Timeout t && t.ownStall;
  }

  /** Whether this failure says something about Redis's health (and may open the breaker). */
  public static boolean countsAgainstRedis(Throwable failure) {
    return !isOwnStall(failure) && !isBadArgument(failure) && !isPoolBusy(failure) && !LuaScript.isCorruption(failure);
  }

  /**
   * Bounds {@code op} by {@code timeoutMillis}, measured so our own stalls do not count: when the timer fires later
   * than {@link #lateSlack} after its due time, this thread was not running (GC pause, cold JIT, a long task, a starved
   * CPU) and the reply may already sit unread in the socket, so the call gets another period. Only a period that ends
   * on time without a reply is Redis's timeout. After {@link #MAX_PERIODS} late periods the call fails anyway, marked
   * as our stall (never held against Redis).
   */
  public static <T> Future<T> within(Future<T> op, long timeoutMillis) {
    Context context = Vertx.currentContext();
    if (context == null) return op.timeout(timeoutMillis, TimeUnit.MILLISECONDS); // no event loop to judge
    return within(context.owner(), op, timeoutMillis);
  }

  /** As {@link #within(Future, long)}, with timers on {@code vertx} (callers off an event loop). */
  public static <T> Future<T> within(Vertx vertx, Future<T> op, long timeoutMillis) {
    Promise<T> promise = Promise.promise();
    Deadline<T> deadline = new Deadline<>(vertx, promise, timeoutMillis);
    deadline.arm();
    op.onComplete(ar -> {
      deadline.cancel();
      if (ar.succeeded()) promise.tryComplete(ar.result());
      else promise.tryFail(ar.cause());
    });
    return promise.future();
  }

  static final int MAX_PERIODS = 8;

  static long lateSlack(long timeoutMillis) {
    return Math.max(20, timeoutMillis / 4);
  }

  private static final class Deadline<T> implements Handler<Long> {
    private final Vertx vertx;
    private final Promise<T> promise;
    private final long timeoutMillis;
    private long armedAtNanos;
    private long timerId = -1;
    private int periods;
    private boolean late;

    Deadline(Vertx vertx, Promise<T> promise, long timeoutMillis) {
      this.vertx = vertx;
      this.promise = promise;
      this.timeoutMillis = timeoutMillis;
    }

    void arm() {
      armedAtNanos = System.nanoTime();
      timerId = vertx.setTimer(timeoutMillis, this);
    }

    void cancel() {
      if (timerId >= 0) vertx.cancelTimer(timerId);
    }

    @Override
    public void handle(Long id) {
      if (promise.future().isComplete()) return;
      long lateMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - armedAtNanos) - timeoutMillis;
      boolean lateNow = lateMillis > lateSlack(timeoutMillis);
      late |= lateNow;
      if (lateNow && ++periods < MAX_PERIODS) {
        arm();
        return;
      }
      promise.tryFail(new Timeout(timeoutMillis, lateNow));
    }
  }
}
