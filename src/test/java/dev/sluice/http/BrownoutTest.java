package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.ManualClock;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Brownout and recovery on a scenario clock: 25 requests per scenario second for 36 s
 * against an alias whose primary is healthy for 8 s, then browns out for 8 s (50 % 503, 25 % answered 2 s later),
 * is hard down for 10 s, then healthy again; the fallback stays healthy. Breakers use the production window (20
 * calls, 10 minimum, 50 %) and 3 probes, with the open period scaled from 30 s to 2 s.
 *
 * <p>Scenario time is a {@link ManualClock} (the gateway's breakers, open periods and deadlines run on it), moved
 * forward in 200 ms steps of 5 requests each. A step ends when each of its requests has been answered or is held by
 * the browned-out primary, which answers a held request once the clock reaches its due time. So every count below
 * is in scenario time and a slow machine changes only how long the test takes, not what it sees. Which requests the
 * primary fails is drawn per request from a fixed seed.
 */
class BrownoutTest {
  static final long RATE_PER_SECOND = 25, STEP_MILLIS = 200;
  static final long BROWNOUT_AT = 8_000, DOWN_AT = 16_000, RECOVERED_AT = 26_000, END_AT = 36_000;
  static final long OPEN_MILLIS = 2_000, SLOW_MILLIS = 2_000;
  static final long SEED = 20_240_611L;
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"%d\"}]}";
  static final long T0 = 1_700_000_000_000L;

  Vertx vertx;
  ManualClock clock = new ManualClock(T0);
  FakeUpstream primary;
  FakeUpstream backup;
  TestGateway gateway;
  HttpClient client;
  /** Scenario milliseconds at which each request reached the primary. */
  final ConcurrentLinkedQueue<Long> primaryArrivals = new ConcurrentLinkedQueue<>();
  /** Slow primary answers waiting for the scenario clock. */
  final ConcurrentLinkedQueue<Held> held = new ConcurrentLinkedQueue<>();
  final AtomicInteger answered = new AtomicInteger();

  record Held(long dueAt, FakeUpstream.Exchange exchange, Context context) {}

  record Outcome(long sentAt, int status, String provider) {}

  long now() {
    return clock.millis() - T0;
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    primary = FakeUpstream.start(vertx).always(ex -> {
      long at = now();
      primaryArrivals.add(at);
      long request = Long.parseLong(ex.body.getJsonArray("messages").getJsonObject(0).getString("content"));
      double dice = new SplittableRandom(SEED + request).nextDouble();
      boolean brownout = at >= BROWNOUT_AT && at < DOWN_AT;
      if (at >= DOWN_AT && at < RECOVERED_AT || brownout && dice < 0.5) {
        Scripts.error(503, "server_error", null, "overloaded").play(ex);
      } else if (brownout && dice < 0.75) {
        held.add(new Held(at + SLOW_MILLIS, ex, Vertx.currentContext()));
      } else {
        Scripts.chat("Primary.").play(ex);
      }
    });
    backup = FakeUpstream.start(vertx).always(Scripts.chat("Backup."));
    // the primary's timeouts are wall-clock and far away: a held answer is slow in scenario time only
    String yaml = """
        server: { port: 0, instances: 2 }
        security: { key-pepper: "%s" }
        providers:
          primary: { type: openai-compatible, base-url: %s, max-connections: 500,
                     timeouts: { connect: 10s, headers: 60s, first-token: 60s, idle: 60s, total: 60s } }
          backup: { type: openai-compatible, base-url: %s, max-connections: 500 }
        models:
          gpt-4o-mini: { deployments: [ { provider: primary, model: p }, { provider: backup, model: b } ] }
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
        resilience: { breaker-window: 20, breaker-min-calls: 10, breaker-failure-rate: 50, breaker-probes: 3,
                      breaker-open: %dms, backoff-base: 5ms, backoff-cap: 50ms }
        """.formatted(TestGateway.PEPPER, primary.baseUrl(), backup.baseUrl(), TestGateway.digest(TestGateway.KEY),
        OPEN_MILLIS);
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), clock);
    client = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(200));
  }

  @AfterEach
  void stop() {
    client.close().await();
    gateway.close();
    primary.close();
    backup.close();
    vertx.close().await();
  }

  @Test
  void brownoutAndRecoveryKeepClientsServedWithoutARetryStormOrAHerd() throws Exception {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setPort(gateway.port())
        .setHost("127.0.0.1").setURI("/v1/chat/completions").putHeader("authorization", "Bearer " + TestGateway.KEY)
        .putHeader("content-type", "application/json");
    List<Future<Outcome>> outcomes = new ArrayList<>();
    long perStep = RATE_PER_SECOND * STEP_MILLIS / 1000;
    for (long step = 0; step < END_AT / STEP_MILLIS; step++) {
      release();
      long at = now();
      for (int i = 0; i < perStep; i++) {
        String body = CHAT.formatted(outcomes.size());
        outcomes.add(client.request(options).compose(request -> request.send(Buffer.buffer(body)))
            .compose(response -> response.body().map(b -> new Outcome(at, response.statusCode(),
                response.getHeader("x-sluice-provider"))))
            .otherwise(failure -> new Outcome(at, -1, null))
            .onComplete(ar -> answered.incrementAndGet()));
      }
      int sent = outcomes.size();
      Await.until(vertx, Duration.ofSeconds(30), "step " + step + ": each request answered or held",
          () -> answered.get() + held.size() == sent);
      clock.advanceMillis(STEP_MILLIS);
    }
    while (!held.isEmpty()) {
      release();
      clock.advanceMillis(STEP_MILLIS);
    }
    List<Outcome> done = new ArrayList<>();
    for (Future<Outcome> f : outcomes) done.add(f.await(30, TimeUnit.SECONDS));

    long ok = done.stream().filter(o -> o.status() == 200).count();
    int attempts = primary.requestCount() + backup.requestCount();
    List<Long> arrivals = new ArrayList<>(primaryArrivals);
    System.out.printf("brownout: %d requests, %d ok, %.3f upstream attempts per request, primary %d / backup %d"
        + " calls, primary calls per scenario second from hard-down: %s%n", done.size(), ok,
        (double) attempts / done.size(), primary.requestCount(), backup.requestCount(),
        LongStream.range(DOWN_AT / 1000, END_AT / 1000).mapToObj(sec -> String.valueOf(
            arrivals.stream().filter(t -> t >= sec * 1000 && t < sec * 1000 + 1000).count())).toList());

    assertThat(done).hasSize((int) (RATE_PER_SECOND * END_AT / 1000));
    assertThat(ok).as("client success: %d of %d", ok, done.size()).isEqualTo(done.size());
    assertThat((double) attempts / done.size()).as("upstream attempts per client request").isLessThanOrEqualTo(1.25);
    // hard down: within 5 s the breaker is open, then the primary sees at most 3 probes per open period
    long downWindow = RECOVERED_AT - (DOWN_AT + 5_000);
    long probes = arrivals.stream().filter(t -> t >= DOWN_AT + 5_000 && t < RECOVERED_AT).count();
    assertThat(probes).as("calls to the hard-down primary after 5 s").isLessThanOrEqualTo(3 * (downWindow / OPEN_MILLIS + 1));
    // recovery: the primary serves again within 2 open periods, and without a herd (≤ 1.2 × the offered rate)
    assertThat(done.stream().filter(o -> o.sentAt() >= RECOVERED_AT && o.sentAt() < RECOVERED_AT + 2 * OPEN_MILLIS)
        .anyMatch(o -> "primary".equals(o.provider()))).as("primary back within 2 open periods").isTrue();
    long lateRecovery = done.stream().filter(o -> o.sentAt() >= RECOVERED_AT + 2 * OPEN_MILLIS + 1_000).count();
    long lateOnPrimary = done.stream().filter(o -> o.sentAt() >= RECOVERED_AT + 2 * OPEN_MILLIS + 1_000)
        .filter(o -> "primary".equals(o.provider())).count();
    assertThat(lateOnPrimary).as("primary carries the traffic again").isGreaterThanOrEqualTo(lateRecovery * 95 / 100);
    for (long second = RECOVERED_AT / 1000; second < END_AT / 1000; second++) {
      long from = second * 1000;
      long inSecond = arrivals.stream().filter(t -> t >= from && t < from + 1000).count();
      assertThat(inSecond).as("primary calls in second %d of recovery", second).isLessThanOrEqualTo(RATE_PER_SECOND * 12 / 10);
    }
  }

  /** Answers every held primary request whose due time the scenario clock has reached. */
  void release() {
    for (Held h : held) {
      if (h.dueAt() <= now() && held.remove(h)) {
        h.context().runOnContext(v -> Scripts.chat("Slow primary.").play(h.exchange()));
      }
    }
  }
}
