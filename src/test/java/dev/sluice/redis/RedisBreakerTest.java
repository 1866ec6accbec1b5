package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The Redis breaker judges Redis by a failure rate, and only by failures that are Redis's. */
class RedisBreakerTest {
  final AtomicLong clock = new AtomicLong(1_000_000);

  @Test
  void fewerFailuresThanTheMinimumNeverOpenIt() {
    RedisBreaker breaker = new RedisBreaker(clock::get);
    for (int i = 0; i < RedisBreaker.MIN_CALLS - 1; i++) {
      assertThat(breaker.allowRequest()).isTrue();
      assertThat(breaker.onFailure()).isFalse();
    }
    assertThat(breaker.isOpen()).isFalse();
  }

  @Test
  void aLowFailureRateKeepsItClosed() {
    RedisBreaker breaker = new RedisBreaker(clock::get);
    for (int i = 0; i < 200; i++) {
      assertThat(breaker.allowRequest()).isTrue();
      if (i % 5 == 0) breaker.onFailure();
      else breaker.onSuccess();
    }
    assertThat(breaker.isOpen()).isFalse();
  }

  @Test
  void opensOnTheFailureRateOnceAndRecoversThroughProbes() {
    RedisBreaker breaker = new RedisBreaker(clock::get);
    int opened = 0;
    for (int i = 0; i < RedisBreaker.MIN_CALLS; i++) {
      breaker.allowRequest();
      if (breaker.onFailure()) opened++;
    }
    assertThat(opened).as("reported once, when it opened").isEqualTo(1);
    assertThat(breaker.isOpen()).isTrue();
    assertThat(breaker.allowRequest()).isFalse();
    clock.addAndGet(RedisBreaker.OPEN.toMillis() + 1);
    for (int i = 0; i < RedisBreaker.PROBES; i++) {
      assertThat(breaker.allowRequest()).as("probe " + i).isTrue();
      breaker.onSuccess();
    }
    assertThat(breaker.isOpen()).isFalse();
    assertThat(breaker.allowRequest()).isTrue();
  }

  @Test
  void ourOwnStallsFullPoolsAndBadArgumentsNeverOpenIt() {
    RedisBreaker breaker = new RedisBreaker(clock::get);
    RuntimeException stall = new RedisFailure.Timeout(250, true);
    RuntimeException badArgument = new RuntimeException("SLUICE_BADARG ARGV[3] nan script: abc");
    RuntimeException poolFull = new io.vertx.core.http.ConnectionPoolTooBusyException("Connection pool reached max wait queue size of 1");
    for (int i = 0; i < 100; i++) {
      assertThat(breaker.allowRequest()).isTrue();
      breaker.report(i % 3 == 0 ? stall : i % 3 == 1 ? badArgument : poolFull);
    }
    assertThat(breaker.isOpen()).isFalse();
    assertThat(RedisFailure.countsAgainstRedis(new RedisFailure.Timeout(250, false))).isTrue();
    assertThat(RedisFailure.countsAgainstRedis(new io.vertx.core.VertxException("Connection refused"))).isTrue();
  }

  @Test
  void aTimerDelayedByOurOwnStalledEventLoopIsNotRedisTimingOut() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      CompletableFuture<Throwable> failure = new CompletableFuture<>();
      vertx.runOnContext(v -> {
        Future<Object> never = Promise.promise().future();
        RedisFailure.within(never, 50).onFailure(failure::complete);
        // this event loop is busy far beyond the timeout (a GC pause or a cold JIT looks the same from inside)
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        while (System.nanoTime() < until) Thread.onSpinWait();
      });
      Throwable stalled = failure.get(10, TimeUnit.SECONDS);
      assertThat(stalled).isInstanceOf(RedisFailure.Timeout.class);
      // the first period ended late; the next one then ran on time without a reply: Redis's timeout after all,
      // but only after one full period that was really waited for
      CompletableFuture<Object> answered = new CompletableFuture<>();
      vertx.runOnContext(v -> {
        Promise<Object> reply = Promise.promise();
        RedisFailure.within(reply.future(), 50).onComplete(ar -> answered.complete(ar.succeeded() ? ar.result() : ar.cause()));
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        while (System.nanoTime() < until) Thread.onSpinWait();
        reply.complete("reply"); // arrives while the loop was stalled: answered, not timed out
      });
      assertThat(answered.get(10, TimeUnit.SECONDS)).isEqualTo("reply");
    } finally {
      vertx.close().await();
    }
  }
}
