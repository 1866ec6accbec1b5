package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Redis command timeout counts Redis's silence, not our own stalls; and what a log may say about the URL. */
class RedisDeadlineTest {
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /** Runs {@code body} on one event-loop context and returns the outcome of the future it builds. */
  <T> Future<T> onEventLoop(java.util.function.Function<Context, Future<T>> body) throws Exception {
    Context context = vertx.getOrCreateContext();
    CompletableFuture<Future<T>> built = new CompletableFuture<>();
    context.runOnContext(v -> built.complete(body.apply(context)));
    Future<T> future = built.get(5, TimeUnit.SECONDS);
    CompletableFuture<Void> done = new CompletableFuture<>();
    future.onComplete(ar -> done.complete(null));
    done.get(10, TimeUnit.SECONDS);
    return future;
  }

  @Test
  void silenceForOneOnTimeWindowIsRedissFailure() throws Exception {
    Future<Object> outcome = onEventLoop(c -> RedisDeadline.within(Promise.promise().future(), 50));
    assertThat(outcome.cause()).isInstanceOf(RedisDeadline.Expired.class);
    assertThat(RedisDeadline.isRedisFailure(outcome.cause())).isTrue();
  }

  @Test
  void aReplyThatArrivesWhileOurEventLoopIsStalledIsNotATimeout() throws Exception {
    Future<String> outcome = onEventLoop(context -> {
      Promise<String> reply = Promise.promise();
      Future<String> bounded = RedisDeadline.within(reply.future(), 50);
      // a 300 ms stall of this event loop (a GC pause, a cold JIT): the reply comes in during it, queued behind it,
      // and the deadline timer is due long before the loop gets to either
      vertx.setTimer(5, id -> {
        new Thread(() -> context.runOnContext(v -> reply.complete("PONG"))).start();
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        while (System.nanoTime() < until) Thread.onSpinWait();
      });
      return bounded;
    });
    assertThat(outcome.succeeded()).as(String.valueOf(outcome.cause())).isTrue();
    assertThat(outcome.result()).isEqualTo("PONG");
  }

  @Test
  void logsNameTheHostNeverTheCredentials() {
    assertThat(RedisConnections.describe("redis://user:pa55@redis.internal:6380/2?password=x")).isEqualTo("redis://redis.internal:6380");
    assertThat(RedisConnections.describe("rediss://:pa55@10.0.0.1:6379")).isEqualTo("rediss://10.0.0.1:6379");
    assertThat(RedisConnections.describe("redis-sentinel://:pa55@s1:26379,s2:26379/mymaster")).isEqualTo("redis-sentinel://s1:26379,s2:26379/mymaster");
    assertThat(RedisConnections.redact("WRONGPASS for pa55 and zz", "redis://user:pa55@h:1?password=zz"))
        .isEqualTo("WRONGPASS for *** and ***");
  }
}
