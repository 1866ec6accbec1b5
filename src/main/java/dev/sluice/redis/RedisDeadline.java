package dev.sluice.redis;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;

/**
 * A command timeout that measures Redis, not us. When the deadline timer fires later than it should, this event loop
 * was itself stalled (a cold JIT, a GC pause, a starved CPU, a long task) and the reply may be sitting unread in the
 * socket; that window does not count, and the command gets a fresh on-time window. A command fails with
 * {@link Expired} only after one full window in which the event loop was live and no reply came, or, if the process
 * never stops stalling, after a hard cap, so a request is never held for good.
 */
public final class RedisDeadline {
  private RedisDeadline() {}

  /** No reply in time. {@code ownStall}: given up at the cap while our own timers kept firing late. */
  public static final class Expired extends RuntimeException {
    private final boolean ownStall;

    Expired(long timeoutMillis, boolean ownStall) {
      super(ownStall ? "no Redis reply while this process kept stalling (gave up after " + cap(timeoutMillis) + " ms)"
          : "no Redis reply within " + timeoutMillis + " ms", null, false, false);
      this.ownStall = ownStall;
    }

    public boolean ownStall() {
      return ownStall;
    }
  }

  /** Whether a failure is Redis's (so it may count towards a breaker) rather than our own stall. */
  public static boolean isRedisFailure(Throwable failure) {
    return !(failure instanceof Expired expired && expired.ownStall());
  }

  /** How late a timer may fire before its window is taken as our stall. */
  static long lateSlack(long timeoutMillis) {
    return Math.max(10, timeoutMillis / 4);
  }

  /** The longest a command is waited for, however much this process stalls. */
  static long cap(long timeoutMillis) {
    return Math.max(1_000, 10 * timeoutMillis);
  }

  /**
   * {@code op}, failed with {@link Expired} when Redis did not answer within {@code timeoutMillis} of live event loop.
   * Outside a Vert.x context (no event loop to judge) it is a plain timeout.
   */
  public static <T> Future<T> within(Future<T> op, long timeoutMillis) {
    Context context = Vertx.currentContext();
    if (context == null) return op.timeout(timeoutMillis, TimeUnit.MILLISECONDS);
    Promise<T> result = Promise.promise();
    Window<T> window = new Window<>(context.owner(), result, timeoutMillis);
    window.arm();
    op.onComplete(ar -> {
      window.cancel();
      if (ar.succeeded()) result.tryComplete(ar.result());
      else result.tryFail(ar.cause());
    });
    return result.future();
  }

  private static final class Window<T> implements Handler<Long> {
    private final Vertx vertx;
    private final Promise<T> result;
    private final long timeoutMillis;
    private final long startNanos = System.nanoTime();
    private long armedNanos;
    private volatile long timer = -1;

    Window(Vertx vertx, Promise<T> result, long timeoutMillis) {
      this.vertx = vertx;
      this.result = result;
      this.timeoutMillis = timeoutMillis;
    }

    void arm() {
      armedNanos = System.nanoTime();
      timer = vertx.setTimer(timeoutMillis, this);
    }

    void cancel() {
      long id = timer;
      if (id >= 0) vertx.cancelTimer(id);
    }

    @Override
    public void handle(Long id) {
      if (result.future().isComplete()) return;
      long now = System.nanoTime();
      long lateMillis = TimeUnit.NANOSECONDS.toMillis(now - armedNanos) - timeoutMillis;
      boolean stalled = lateMillis > lateSlack(timeoutMillis);
      if (!stalled) {
        result.tryFail(new Expired(timeoutMillis, false));
      } else if (TimeUnit.NANOSECONDS.toMillis(now - startNanos) >= cap(timeoutMillis)) {
        result.tryFail(new Expired(timeoutMillis, true));
      } else {
        arm(); // the window was ours, not Redis's: give Redis a fresh one
      }
    }
  }
}
