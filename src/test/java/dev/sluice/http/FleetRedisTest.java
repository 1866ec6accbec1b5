package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Gateway;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.Http;
import dev.sluice.testing.RedisServer;
import dev.sluice.testing.TestGateway;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * N replicas + one Redis behave as one gateway, with production defaults (shipped command timeout, breaker, pool):
 * each replica is a fresh gateway in its own Vert.x instance (in-process; separate JVMs would need a built jar), started
 * cold right before the burst. Redis faults are real: SIGSTOP, SIGKILL and a restart of the test's redis-server.
 */
class FleetRedisTest {
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  final List<Vertx> vertxes = new ArrayList<>();
  final List<Gateway> gateways = new ArrayList<>();
  final List<PrometheusMeterRegistry> registries = new ArrayList<>();
  final ExecutorService pool = Executors.newFixedThreadPool(64);
  RedisServer redis;
  FakeUpstream upstream;

  @BeforeEach
  void start() throws Exception {
    redis = RedisServer.start();
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    upstream = FakeUpstream.start(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    pool.shutdownNow();
    gateways.forEach(g -> g.stop().await());
    upstream.close();
    vertxes.forEach(v -> v.close().await());
    redis.resume();
    redis.close();
  }

  Gateway replica(String extra, String tenantExtra) {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    String yaml = TestGateway.yaml(upstream.baseUrl(), "redis: { url: \"" + redis.url() + "\" }\n" + extra)
        .replace("max-connections: 8", "max-connections: 64").replace("max-wait-queue: 4", "max-wait-queue: 64")
        .replace("keys: [ { id: acme-key-1,", tenantExtra + "\n    keys: [ { id: acme-key-1,");
    SluiceConfig config = ConfigLoader.parse(yaml, Map.of());
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registries.add(registry);
    Gateway gateway = Gateway.start(vertx, config, 0, Clock.systemUTC(), registry).await();
    gateways.add(gateway);
    return gateway;
  }

  static String url(Gateway g) {
    return "http://127.0.0.1:" + g.port() + "/v1/chat/completions";
  }

  List<HttpResponse<String>> concurrently(int count, java.util.function.IntFunction<String> urlFor, String body) throws Exception {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String target = urlFor.apply(i);
      calls.add(CompletableFuture.supplyAsync(() -> {
        try {
          return Http.post(target, TestGateway.KEY, body);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, pool));
    }
    List<HttpResponse<String>> out = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> call : calls) out.add(call.get());
    return out;
  }

  /** Sum of a counter over every replica (all label values). */
  double metric(String name) {
    double sum = 0;
    for (PrometheusMeterRegistry registry : registries) {
      Matcher m = Pattern.compile("(?m)^" + name + "\\{[^}]*} ([0-9.eE+-]+)$").matcher(registry.scrape());
      while (m.find()) sum += Double.parseDouble(m.group(1));
    }
    return sum;
  }

  long redisCommands() throws Exception {
    long total = 0;
    Matcher m = Pattern.compile("cmdstat_([a-z|]+):calls=(\\d+)").matcher(redis.command("INFO", "commandstats"));
    while (m.find()) if (!m.group(1).startsWith("config") && !m.group(1).startsWith("info")) total += Long.parseLong(m.group(2));
    return total;
  }

  @Test
  void coldBurstOfFiftyAcrossTwoFreshReplicasAdmitsExactlyTheSharedLimit() throws Exception {
    String limits = "limits: { defaults: { requests-per-minute: 20 } }";
    Gateway a = replica(limits, "");
    Gateway b = replica(limits, "");
    List<HttpResponse<String>> responses = concurrently(50, i -> url(i % 2 == 0 ? a : b), CHAT);
    assertThat(responses.stream().filter(r -> r.statusCode() == 200).count()).isEqualTo(20);
    assertThat(responses.stream().filter(r -> r.statusCode() == 429).count()).isEqualTo(30);
    assertThat(responses).allMatch(r -> r.headers().firstValue("x-ratelimit-limit-requests").orElse("").equals("20"));
    assertThat(metric("llm_ratelimit_degraded_total")).as("fail-open decisions").isZero();
    assertThat(metric("llm_redis_errors_total")).as("Redis errors").isZero();
  }

  /** Calls of the commands the limits, budget and ledger use (scripts and the commands inside them). */
  long quotaCommands(String stats) {
    long total = 0;
    Matcher m = Pattern.compile("cmdstat_(evalsha|time|hmget|hset|hdel|zcount|zadd|zrem|pexpire|expire):calls=(\\d+)").matcher(stats);
    while (m.find()) total += Long.parseLong(m.group(2));
    return total;
  }

  static long calls(String stats, String command) {
    Matcher m = Pattern.compile("cmdstat_" + command + ":calls=(\\d+)").matcher(stats);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  /** Replica heartbeats in the window: the only script that runs ZCARD. */
  static long heartbeats(String stats) {
    return calls(stats, "zcard");
  }

  @Test
  void limitsBudgetAndLedgerCostOneRoundTripToAdmitAndOneToSettle() throws Exception {
    String limits = "limits: { defaults: { requests-per-minute: 1000, tokens-per-minute: 1000000 } }\n"
        + "pricing: { upstream-mini: { input: 1, output: 2 } }";
    Gateway a = replica(limits, "budget: { daily-usd: 100 }\n    cache: { enabled: true, ttl: 1h }");
    String warm = "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"warm\"}]}";
    assertThat(Http.post(url(a), TestGateway.KEY, warm).statusCode()).isEqualTo(200); // connections, scripts, account
    String account = "sluice:acct:{t:acme}:" + java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString().substring(0, 7);
    // the warm-up is over once it is settled and its cache fleet lock released (a release still under way on a loaded
    // machine would be counted as the measured request's)
    Await.until(vertxes.get(0), Duration.ofSeconds(20), "warm-up settled and its fleet lock released",
        () -> redis.command("HGET", account, "sm").contains("$") && redis.command("KEYS", "sluice:flight:*").startsWith("*0"));
    double recoveriesBefore = recoveries();
    redis.command("CONFIG", "RESETSTAT");
    HttpResponse<String> response = Http.post(url(a), TestGateway.KEY, warm.replace("warm", "miss"));
    assertThat(response.statusCode()).isEqualTo(200);
    Await.until(vertxes.get(0), Duration.ofSeconds(10), "settled and stored", () -> {
      String stats = redis.command("INFO", "commandstats");
      return calls(stats, "evalsha") >= 2 + heartbeats(stats) && stats.contains("cmdstat_set:")
          && redis.command("KEYS", "sluice:flight:*").startsWith("*0");
    });
    String stats = redis.command("INFO", "commandstats");
    long beats = heartbeats(stats);
    System.out.println("one request on the full path (limits + budget + ledger + cache miss + store), "
        + (redisCommands() - 6 * beats) + " commands besides " + beats + " replica heartbeat(s):\n" + stats);
    if (recoveries() > recoveriesBefore) {
      // A loaded machine can make this request take a recovery path (a decision made locally while a reply was late,
      // reconciled in Redis afterwards; a retried command): then it costs more than the plain path, never less.
      assertThat(calls(stats, "evalsha") - beats).as("the plain path's scripts plus the recovery's").isGreaterThan(3);
      return;
    }
    // scripts: one to admit, one to settle (which also books the ledger), and the cache's fleet-lock release
    assertThat(calls(stats, "evalsha") - beats).as("admit, settle and the cache lock's release").isEqualTo(3);
    // a heartbeat (every 5 s, not per request) is EVALSHA, TIME, ZADD, ZREMRANGEBYSCORE, PEXPIRE, ZCARD
    // less the cache lock release's own EVALSHA (its GET and DEL are not quota commands)
    assertThat(quotaCommands(stats) - 1 - 4 * beats).as(stats).isLessThanOrEqualTo(8);
  }

  /** Decisions made locally, Redis errors and retried commands so far: what takes a request off the plain path. */
  double recoveries() {
    return metric("llm_ratelimit_degraded_total") + metric("llm_redis_errors_total") + metric("llm_redis_retries_total");
  }

  /**
   * {@code count} clients posting {@link #CHAT} in a loop, alternately to {@code a} and {@code b}, until {@code running}
   * is false; each answer's status goes to {@code onStatus}, each failed call to {@code onFailure}.
   */
  List<CompletableFuture<Void>> load(int count, Gateway a, Gateway b, AtomicBoolean running, IntConsumer onStatus,
      Consumer<Exception> onFailure) {
    List<CompletableFuture<Void>> clients = new ArrayList<>();
    for (int c = 0; c < count; c++) {
      Gateway target = c % 2 == 0 ? a : b;
      clients.add(CompletableFuture.runAsync(() -> {
        while (running.get()) {
          try {
            onStatus.accept(Http.post(url(target), TestGateway.KEY, CHAT).statusCode());
          } catch (Exception e) {
            onFailure.accept(e);
          }
        }
      }, pool));
    }
    return clients;
  }

  @Test
  void twoReplicasUnderSaturatingLoadAdmitTheExactBucketWithNoFailOpen() throws Exception {
    String limits = "limits: { defaults: { requests-per-minute: 600 } }";
    Gateway a = replica(limits, "");
    Gateway b = replica(limits, "");
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger admitted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger other = new AtomicInteger();
    java.util.concurrent.atomic.AtomicLong firstAdmitted = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
    java.util.concurrent.atomic.AtomicLong lastAdmitted = new java.util.concurrent.atomic.AtomicLong();
    List<CompletableFuture<Void>> clients = load(32, a, b, running, status -> {
      if (status == 200) {
        admitted.incrementAndGet();
        long now = System.nanoTime();
        firstAdmitted.accumulateAndGet(now, Math::min);
        lastAdmitted.accumulateAndGet(now, Math::max);
      } else if (status == 429) {
        refused.incrementAndGet();
      } else {
        other.incrementAndGet();
        System.out.println("unexpected status " + status);
      }
    }, e -> {
      other.incrementAndGet();
      System.out.println("client failure " + e);
    });
    // load for a bounded number of refused requests (saturation), not for a wall-clock duration
    Await.until(vertxes.get(0), Duration.ofSeconds(20), "saturated", () -> refused.get() >= 1_500);
    running.set(false);
    for (CompletableFuture<Void> client : clients) client.get();
    // elapsed between the first and the last admission: the bucket starts full at the first one
    double elapsedSeconds = (lastAdmitted.get() - firstAdmitted.get()) / 1e9;
    double expected = 600 + 10 * elapsedSeconds;
    System.out.printf("saturating load: admitted %d, refused %d, elapsed %.2f s, bucket allows %.0f%n",
        admitted.get(), refused.get(), elapsedSeconds, expected);
    assertThat(other.get()).isZero();
    assertThat((double) admitted.get()).isBetween(expected * 0.97, expected * 1.03);
    assertThat(metric("llm_ratelimit_degraded_total")).as("fail-open decisions").isZero();
    assertThat(metric("llm_redis_errors_total")).as("Redis errors").isZero();
  }

  @Test
  void twoSecondSigstopUnderLoadIsAnsweredPerPolicyThenBackOnRedis() throws Exception {
    String limits = "limits: { defaults: { requests-per-minute: 100000 } }";
    Gateway a = replica(limits, "");
    Gateway b = replica(limits, "");
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger other = new AtomicInteger();
    List<CompletableFuture<Void>> clients = load(8, a, b, running, status -> (status == 200 ? ok : other).incrementAndGet(),
        e -> other.incrementAndGet());
    Await.until(vertxes.get(0), Duration.ofSeconds(10), "load running", () -> ok.get() > 50);
    redis.pause();
    try {
      Thread.sleep(2000); // the fault itself: Redis frozen for 2 s with its connections open
    } finally {
      redis.resume();
    }
    // back on Redis: a decision reports the shared limit again (the local share would be 100000 / 2)
    Await.until(vertxes.get(0), Duration.ofSeconds(10), "decided by Redis again", () -> {
      HttpResponse<String> r = Http.post(url(a), TestGateway.KEY, CHAT);
      return r.statusCode() == 200 && r.headers().firstValue("x-ratelimit-limit-requests").orElse("").equals("100000");
    });
    running.set(false);
    for (CompletableFuture<Void> client : clients) client.get();
    assertThat(other.get()).as("every request answered 200 (fail-open)").isZero();
    assertThat(metric("llm_ratelimit_degraded_total")).as("decided locally during the stall").isPositive();
  }

  @Test
  void aSpentBudgetIsStillEnforcedAfterRedisIsKilledAndRestartedEmpty() throws Exception {
    // worst case per request: 100 output tokens × $10,000 per 1M = $1.00; a $5 day admits 5
    String extra = "pricing: { upstream-mini: { input: 0, output: 10000 } }";
    Gateway a = replica(extra, "budget: { daily-usd: 5 }");
    String body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    // the fake reports 5 completion tokens: $0.05 actual per request; 100 requests would cost $5
    int admitted = 0;
    for (int i = 0; i < 120 && admitted < 100; i++) if (Http.post(url(a), TestGateway.KEY, body).statusCode() == 200) admitted++;
    String account = "sluice:acct:{t:acme}:" + java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString().substring(0, 7);
    Await.until(vertxes.get(0), Duration.ofSeconds(10), "spend booked", () -> redis.command("HGET", account, "sm").contains("$"));
    HttpResponse<String> exhausted = Http.post(url(a), TestGateway.KEY, body);
    assertThat(exhausted.statusCode()).as(exhausted.body()).isEqualTo(429);
    redis.kill();
    redis.restart(); // same port, empty: what a Redis without persistence comes back as
    Await.until(vertxes.get(0), Duration.ofSeconds(15), "back on Redis with the budget restored",
        () -> redis.command("HGET", account, "sm").contains("$") && Http.post(url(a), TestGateway.KEY, body).statusCode() == 429);
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> after = Http.post(url(a), TestGateway.KEY, body);
      assertThat(after.statusCode()).as(after.body()).isEqualTo(429);
      assertThat(new io.vertx.core.json.JsonObject(after.body()).getJsonObject("error").getString("code")).isEqualTo("insufficient_quota");
    }
  }
}
