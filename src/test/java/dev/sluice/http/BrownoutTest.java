package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Brownout and recovery, time-compressed: an open-loop client at 50 requests/s for 36 s
 * against an alias whose primary is healthy for 8 s, then browns out for 8 s (50 % 503, 25 % answered after 2 s),
 * is hard down for 10 s, then healthy again; the fallback stays healthy. Breakers use the production window (20
 * calls, 10 minimum, 50 %) and 3 probes, with the open period scaled from 30 s to 2 s.
 */
class BrownoutTest {
  static final long RATE_PER_SECOND = 50;
  static final long BROWNOUT_AT = 8_000, DOWN_AT = 16_000, RECOVERED_AT = 26_000, END_AT = 36_000;
  static final long OPEN_MILLIS = 2_000;
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  Vertx vertx;
  FakeUpstream primary;
  FakeUpstream backup;
  TestGateway gateway;
  HttpClient client;
  volatile long startNanos;
  /** Milliseconds since the start at which each request reached the primary. */
  final ConcurrentLinkedQueue<Long> primaryArrivals = new ConcurrentLinkedQueue<>();

  record Outcome(long sentAtMillis, int status, String provider) {}

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    primary = FakeUpstream.start(vertx).always(ex -> {
      long at = elapsedMillis();
      primaryArrivals.add(at);
      double dice = ThreadLocalRandom.current().nextDouble();
      if (at >= DOWN_AT && at < RECOVERED_AT || at >= BROWNOUT_AT && at < DOWN_AT && dice < 0.5) {
        Scripts.error(503, "server_error", null, "overloaded").play(ex);
      } else if (at >= BROWNOUT_AT && at < DOWN_AT && dice < 0.75) {
        ex.vertx.setTimer(2_000, id -> Scripts.chat("Slow primary.").play(ex));
      } else {
        Scripts.chat("Primary.").play(ex);
      }
    });
    backup = FakeUpstream.start(vertx).always(Scripts.chat("Backup."));
    String yaml = """
        server: { port: 0, instances: 2 }
        security: { key-pepper: "%s" }
        providers:
          primary: { type: openai-compatible, base-url: %s, max-connections: 500,
                     timeouts: { connect: 500ms, headers: 5s, first-token: 5s, idle: 5s, total: 5s } }
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
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
    client = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(400));
  }

  @AfterEach
  void stop() {
    client.close().await();
    gateway.close();
    primary.close();
    backup.close();
    vertx.close().await();
  }

  long elapsedMillis() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  @Test
  void brownoutAndRecoveryKeepClientsServedWithoutARetryStormOrAHerd() throws Exception {
    List<Future<Outcome>> outcomes = new ArrayList<>(); // written on the timer's event loop only
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setPort(gateway.port())
        .setHost("127.0.0.1").setURI("/v1/chat/completions").putHeader("authorization", "Bearer " + TestGateway.KEY)
        .putHeader("content-type", "application/json");
    startNanos = System.nanoTime();
    // open loop: requests leave on schedule whatever the answers do (no coordinated omission)
    long total = RATE_PER_SECOND * END_AT / 1000;
    io.vertx.core.Promise<Void> sent = io.vertx.core.Promise.promise();
    long[] next = {0};
    vertx.setPeriodic(1000 / RATE_PER_SECOND, id -> {
      long due = Math.min(total, elapsedMillis() * RATE_PER_SECOND / 1000 + 1);
      while (next[0] < due) {
        next[0]++;
        long at = elapsedMillis();
        outcomes.add(client.request(options).compose(request -> request.send(Buffer.buffer(CHAT)))
            .compose(response -> response.body().map(body -> new Outcome(at, response.statusCode(),
                response.getHeader("x-sluice-provider"))))
            .otherwise(failure -> new Outcome(at, -1, null)));
      }
      if (next[0] >= total) {
        vertx.cancelTimer(id);
        sent.complete();
      }
    });
    sent.future().await(END_AT + 10_000, TimeUnit.MILLISECONDS);
    List<Outcome> done = new ArrayList<>(); // the list was filled on the timer's thread before `sent` completed
    for (Future<Outcome> f : outcomes) done.add(f.await(20, TimeUnit.SECONDS));

    long ok = done.stream().filter(o -> o.status() == 200).count();
    assertThat((double) ok / done.size()).as("client success: %d of %d", ok, done.size()).isGreaterThanOrEqualTo(0.995);
    int attempts = primary.requestCount() + backup.requestCount();
    assertThat((double) attempts / done.size()).as("upstream attempts per client request").isLessThanOrEqualTo(1.25);

    List<Long> arrivals = new ArrayList<>(primaryArrivals);
    System.out.printf("brownout: %d requests, %.2f %% ok, %.3f upstream attempts per request, primary %d / backup %d"
        + " calls, primary calls per second from hard-down: %s%n", done.size(), 100.0 * ok / done.size(),
        (double) attempts / done.size(), primary.requestCount(), backup.requestCount(),
        java.util.stream.LongStream.range(DOWN_AT / 1000, END_AT / 1000).mapToObj(sec -> String.valueOf(
            arrivals.stream().filter(t -> t >= sec * 1000 && t < sec * 1000 + 1000).count())).toList());
    // hard down: within 5 s the breaker is open, then the primary sees at most 3 probes per open period
    long downWindow = RECOVERED_AT - (DOWN_AT + 5_000);
    long probes = arrivals.stream().filter(t -> t >= DOWN_AT + 5_000 && t < RECOVERED_AT).count();
    assertThat(probes).as("calls to the hard-down primary after 5 s").isLessThanOrEqualTo(3 * (downWindow / OPEN_MILLIS + 1));
    // recovery: the primary serves again within 2 open periods, and without a herd (≤ 1.2 × the offered rate)
    assertThat(done.stream().filter(o -> o.sentAtMillis() >= RECOVERED_AT && o.sentAtMillis() < RECOVERED_AT + 2 * OPEN_MILLIS)
        .anyMatch(o -> "primary".equals(o.provider()))).as("primary back within 2 open periods").isTrue();
    long lateRecovery = done.stream().filter(o -> o.sentAtMillis() >= RECOVERED_AT + 2 * OPEN_MILLIS + 1_000).count();
    long lateOnPrimary = done.stream().filter(o -> o.sentAtMillis() >= RECOVERED_AT + 2 * OPEN_MILLIS + 1_000)
        .filter(o -> "primary".equals(o.provider())).count();
    assertThat(lateOnPrimary).as("primary carries the traffic again").isGreaterThanOrEqualTo(lateRecovery * 95 / 100);
    for (long second = RECOVERED_AT / 1000; second < END_AT / 1000; second++) {
      long from = second * 1000;
      long inSecond = arrivals.stream().filter(t -> t >= from && t < from + 1000).count();
      assertThat(inSecond).as("primary calls in second %d of recovery", second).isLessThanOrEqualTo(RATE_PER_SECOND * 12 / 10);
    }
  }
}
