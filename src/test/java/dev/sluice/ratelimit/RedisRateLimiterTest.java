package dev.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.RedisConfig;
import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.config.TenantLimits;
import dev.sluice.redis.RedisBreaker;
import dev.sluice.redis.RedisConnections;
import dev.sluice.testing.RedisServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Redis limiter against a real redis-server: exact across instances, NOSCRIPT, corrupt keys, outages. */
class RedisRateLimiterTest {
  static RedisServer redisServer;
  final AtomicLong clock = new AtomicLong(1_000_000);
  final List<Vertx> vertxes = new ArrayList<>();

  @BeforeAll
  static void startRedis() throws Exception {
    redisServer = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() throws Exception {
    redisServer.close();
  }

  @BeforeEach
  void flush() throws Exception {
    redisServer.flushAll();
  }

  @AfterEach
  void close() {
    vertxes.forEach(v -> v.close().await());
  }

  RedisRateLimiter limiter(int replicas) {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    RedisConfig config = new RedisConfig(redisServer.url(), null, replicas);
    return new RedisRateLimiter(RedisConnections.create(vertx, config, 8), 10_000, // command timeout: a healthy Redis on a loaded machine never reaches it
       
        new RedisBreaker(3, 5000, clock::get), new LocalRateLimiter(clock::get, replicas));
  }

  static LimitRequest request(String tenant, int id, Integer rpm, Integer tpm, Integer inFlight, long cost) {
    return request(tenant, id, rpm, tpm, inFlight, cost, RedisFailurePolicy.FAIL_OPEN);
  }

  static LimitRequest request(String tenant, int id, Integer rpm, Integer tpm, Integer inFlight, long cost, RedisFailurePolicy policy) {
    return new LimitRequest(tenant, "req-" + id, new TenantLimits(rpm, tpm, inFlight), cost, policy);
  }

  static long admittedOf(List<Future<RateLimitDecision>> decisions) {
    return Future.all(decisions).await().list().stream().filter(d -> ((RateLimitDecision) d).allowed()).count();
  }

  /**
   * Buckets refill on Redis's clock (the script reads TIME), which a test cannot stop: {@code limit} units per minute
   * come back while the test runs. An exact count stays exact when the test is quick and grows by what refilled in
   * {@code since}'s elapsed time when a loaded machine runs it slowly.
   */
  static long refilled(long limitPerMinute, long sinceNanos) {
    return (System.nanoTime() - sinceNanos) / 1_000_000 * limitPerMinute / 60_000;
  }

  @Test
  void twoInstancesSharingRedisAdmitExactlyTheLimit() {
    RedisRateLimiter a = limiter(2);
    RedisRateLimiter b = limiter(2);
    long start = System.nanoTime();
    List<Future<RateLimitDecision>> decisions = new ArrayList<>();
    for (int i = 0; i < 50; i++) decisions.add((i % 2 == 0 ? a : b).admit(request("acme", i, 20, null, null, 1)));
    long admitted = admittedOf(decisions);
    assertThat(admitted).isBetween(20L, 20 + refilled(20, start));
    assertThat(a.degradedDecisions() + b.degradedDecisions()).isZero();
  }

  @Test
  void tokenLimitIsExactAcrossInstances() {
    RedisRateLimiter a = limiter(1);
    RedisRateLimiter b = limiter(1);
    long start = System.nanoTime();
    List<Future<RateLimitDecision>> decisions = new ArrayList<>();
    for (int i = 0; i < 50; i++) decisions.add((i % 2 == 0 ? a : b).admit(request("acme", i, null, 1000, null, 100)));
    long admitted = admittedOf(decisions);
    assertThat(admitted).isBetween(10L, 10 + refilled(1000, start) / 100);
  }

  @Test
  void settlementRefundsUnusedTokensAndFreesTheSlot() {
    RedisRateLimiter limiter = limiter(1);
    LimitRequest big = request("acme", 1, null, 1000, 1, 1000);
    long start = System.nanoTime();
    RateLimitDecision admitted = limiter.admit(big).await();
    assertThat(admitted.allowed()).as(admitted.toString()).isTrue();
    assertThat(limiter.admit(request("acme", 2, null, 1000, 1, 1)).await().denial())
        .isEqualTo(RateLimitDecision.Denial.CONCURRENCY);
    limiter.settle(big, admitted, 100).await();
    RateLimitDecision next = limiter.admit(request("acme", 3, null, 1000, 1, 800)).await();
    assertThat(next.allowed()).isTrue();
    // 900 refunded, 800 taken: 100 left plus whatever refilled meanwhile (1000/min ≈ 17/s); without the refund
    // the 800-token request could not have passed at all.
    assertThat(next.tokensRemaining()).isBetween(100L, 100 + refilled(1000, start) + 1);
  }

  @Test
  void deniedRequestReportsRetryAfterAndReset() {
    RedisRateLimiter limiter = limiter(1);
    long start = System.nanoTime();
    // one request per minute: the second is denied unless a whole minute passed in between
    assertThat(limiter.admit(request("acme", 1, 1, null, null, 1)).await().allowed()).isTrue();
    RateLimitDecision denied = limiter.admit(request("acme", 2, 1, null, null, 1)).await();
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(denied.denial()).isEqualTo(RateLimitDecision.Denial.REQUESTS);
    assertThat(denied.retryAfterMillis()).isBetween(Math.max(1L, 60_000L - elapsedMs - 1), 60_000L);
    assertThat(denied.requestsResetMillis()).isBetween(60_000L - elapsedMs - 1, 60_000L);
  }

  @Test
  void keysAreHashTaggedPerTenantAndExpire() throws Exception {
    RedisRateLimiter limiter = limiter(1);
    limiter.admit(request("acme", 1, 10, 1000, 5, 10)).await();
    for (String suffix : List.of("req", "tok", "inflight")) {
      String ttl = redisServer.command("PTTL", "sluice:rl:{t:acme}:" + suffix);
      assertThat(Long.parseLong(ttl.trim().substring(1))).as(suffix).isPositive();
    }
  }

  @Test
  void scriptCacheFlushIsTransparent() throws Exception {
    RedisRateLimiter limiter = limiter(1);
    long start = System.nanoTime();
    assertThat(limiter.admit(request("acme", 1, 10, null, null, 1)).await().allowed()).isTrue();
    redisServer.command("SCRIPT", "FLUSH");
    RateLimitDecision after = limiter.admit(request("acme", 2, 10, null, null, 1)).await();
    assertThat(after.allowed()).isTrue();
    assertThat(after.degraded()).isFalse();
    assertThat(after.requestsRemaining()).isBetween(8L, 8 + refilled(10, start));
  }

  @Test
  void corruptBucketIsALimiterErrorThatGetsRepaired() throws Exception {
    RedisRateLimiter limiter = limiter(1);
    redisServer.command("SET", "sluice:rl:{t:acme}:req", "garbage");
    RateLimitDecision first = limiter.admit(request("acme", 1, 10, null, null, 1)).await();
    assertThat(first.degraded()).isTrue();
    assertThat(limiter.corruptKeys()).isEqualTo(1);
    redisServer.command("HSET", "sluice:rl:{t:acme}:tok", "tokens", "NaNx", "ts", "oops");
    RateLimitDecision second = limiter.admit(request("acme", 2, 10, 100, null, 1)).await();
    assertThat(second.degraded()).isTrue();
    assertThat(limiter.corruptKeys()).isEqualTo(2);
    RateLimitDecision repaired = limiter.admit(request("acme", 3, 10, 100, null, 1)).await();
    assertThat(repaired.degraded()).as(repaired.toString()).isFalse();
    assertThat(repaired.allowed()).isTrue();
  }

  @Test
  void pausedRedisNeverHoldsARequestBeyondTheCommandTimeout() throws Exception {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    RedisRateLimiter limiter = new RedisRateLimiter(
        RedisConnections.create(vertx, new RedisConfig(redisServer.url(), null, 1), 8), 1000,
        new RedisBreaker(3, 5000, clock::get), new LocalRateLimiter(clock::get, 1));
    assertThat(limiter.admit(request("acme", 0, 100, null, null, 1)).await().degraded()).as("warm connection").isFalse();
    // paused for far longer than the test may wait for any one decision: each decision comes back only because the
    // command timeout (1 s) ends its wait, not because the pause ended
    redisServer.command("CLIENT", "PAUSE", "120000", "WRITE");
    try {
      for (int i = 1; i <= 10; i++) {
        RateLimitDecision d = limiter.admit(request("acme", i, 100, null, null, 1)).await(20, TimeUnit.SECONDS);
        assertThat(d.degraded()).isTrue();
        assertThat(d.allowed()).isTrue();
      }
    } finally {
      redisServer.command("CLIENT", "UNPAUSE");
    }
    // 3 timeouts open the breaker; the other 7 decisions skip Redis
    assertThat(limiter.redisErrors()).isEqualTo(3);
  }

  @Test
  void redisOutageFailsOpenToTheLocalShareOrClosedPerTenant() throws Exception {
    RedisRateLimiter limiter = limiter(4);
    redisServer.stop();
    try {
      int admitted = 0;
      for (int i = 0; i < 20; i++) if (limiter.admit(request("acme", i, 20, null, null, 1)).await().allowed()) admitted++;
      assertThat(admitted).as("fail-open share = 20 / 4 replicas").isEqualTo(5);
      assertThat(limiter.admit(request("strict", 1, 20, null, null, 1, RedisFailurePolicy.FAIL_CLOSED)).await().denial())
          .isEqualTo(RateLimitDecision.Denial.LIMITER_UNAVAILABLE);
      assertThat(limiter.redisErrors()).as("breaker stops paying the timeout after 3 errors").isEqualTo(3);
    } finally {
      redisServer.restart();
    }
    clock.addAndGet(5001);
    RateLimitDecision back = limiter.admit(request("acme", 100, 20, null, null, 1)).await();
    assertThat(back.degraded()).isFalse();
    assertThat(back.allowed()).isTrue();
  }

  @Test
  void anUnboundedTokenCostIsClampedBeforeItReachesRedisAndIsRefusedAsLargerThanTheBucket() {
    RedisRateLimiter limiter = limiter(1);
    LimitRequest huge = request("acme", 1, null, 1000, null, Long.MAX_VALUE);
    assertThat(huge.tokenCost()).isEqualTo(dev.sluice.usage.CostCalculator.MAX_TOKENS);
    assertThat(request("acme", 2, null, 1000, null, Long.MIN_VALUE).tokenCost()).isZero();
    assertThat(limiter.admit(huge).await().denial()).isEqualTo(RateLimitDecision.Denial.LARGER_THAN_BUCKET);
    RateLimitDecision honest = limiter.admit(request("acme", 3, null, 1000, null, 100)).await();
    assertThat(honest.allowed()).isTrue();
    // an absurd reported usage charges at most the clamp: the bucket is deep in debt, but a number, not a wrap
    limiter.settle(request("acme", 3, null, 1000, null, 100), honest, Long.MAX_VALUE).await();
    RateLimitDecision next = limiter.admit(request("acme", 4, null, 1000, null, 1)).await();
    assertThat(next.denial()).isEqualTo(RateLimitDecision.Denial.TOKENS);
    assertThat(next.retryAfterMillis()).isPositive();
    assertThat(limiter.redisErrors()).isZero();
  }
}
