package dev.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.config.BudgetConfig;
import dev.sluice.config.RedisConfig;
import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.config.TenantLimits;
import dev.sluice.redis.RedisBreaker;
import dev.sluice.redis.RedisConnections;
import dev.sluice.testing.Await;
import dev.sluice.testing.SharedRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Limits, budgets and the ledger in Redis against a real redis-server, with the shipped command timeout and breaker:
 * exact across instances, one script each way, idempotent settlement, lost replies reconciled, NOSCRIPT, corrupt
 * fields, outages, and a Redis that lost its data.
 */
class RedisQuotasTest {
  @RegisterExtension
  static final SharedRedis redisServer = new SharedRedis();
  final AtomicLong clock = new AtomicLong(1_800_000_000_000L);
  final List<Vertx> vertxes = new ArrayList<>();
  final LocalDate today = Instant.ofEpochMilli(1_800_000_000_000L).atZone(ZoneOffset.UTC).toLocalDate();

  @AfterEach
  void close() {
    vertxes.forEach(v -> v.close().await());
  }

  /** Production defaults: the shipped command timeout, breaker and pool. */
  RedisQuotas quotas(int replicas) {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    RedisConfig config = new RedisConfig(redisServer.url(), null, replicas);
    return new RedisQuotas(vertx, RedisConnections.create(vertx, config), config.commandTimeout().toMillis(),
        new RedisBreaker(clock::get), new LocalRateLimiter(clock::get, replicas), new LocalBudgetGuard(replicas), clock::get);
  }

  static LimitRequest request(String tenant, int id, Integer rpm, Integer tpm, Integer inFlight, long cost) {
    return request(tenant, id, rpm, tpm, inFlight, cost, RedisFailurePolicy.FAIL_OPEN);
  }

  static LimitRequest request(String tenant, int id, Integer rpm, Integer tpm, Integer inFlight, long cost, RedisFailurePolicy policy) {
    return new LimitRequest(tenant, "req-" + id, new TenantLimits(rpm, tpm, inFlight), cost, policy);
  }

  BudgetRequest budget(String tenant, int id, double dailyUsd, double estimate) {
    return new BudgetRequest(tenant, "req-" + id, new BudgetConfig(dailyUsd, null), estimate, today, RedisFailurePolicy.FAIL_OPEN);
  }

  static long admittedOf(List<Future<RateLimitDecision>> decisions) {
    return Future.all(decisions).await().list().stream().filter(d -> ((RateLimitDecision) d).allowed()).count();
  }

  static long commandsSinceReset() throws Exception {
    long total = 0;
    Matcher m = Pattern.compile("cmdstat_([a-z|]+):calls=(\\d+)").matcher(redisServer.command("INFO", "commandstats"));
    while (m.find()) if (!m.group(1).startsWith("config") && !m.group(1).startsWith("info")) total += Long.parseLong(m.group(2));
    return total;
  }

  @Test
  void twoInstancesSharingRedisAdmitExactlyTheLimit() {
    RedisQuotas a = quotas(2);
    RedisQuotas b = quotas(2);
    List<Future<RateLimitDecision>> decisions = new ArrayList<>();
    for (int i = 0; i < 50; i++) decisions.add((i % 2 == 0 ? a : b).admit(request("acme", i, 20, null, null, 1)));
    assertThat(admittedOf(decisions)).isEqualTo(20);
    assertThat(a.degradedDecisions() + b.degradedDecisions()).isZero();
  }

  @Test
  void tokenLimitIsExactAcrossInstances() {
    RedisQuotas a = quotas(1);
    RedisQuotas b = quotas(1);
    List<Future<RateLimitDecision>> decisions = new ArrayList<>();
    for (int i = 0; i < 50; i++) decisions.add((i % 2 == 0 ? a : b).admit(request("acme", i, null, 1000, null, 100)));
    assertThat(admittedOf(decisions)).isEqualTo(10);
  }

  @Test
  void limitsAndBudgetAreDecidedTogetherAndARefusalConsumesNothing() {
    RedisQuotas quotas = quotas(1);
    QuotaDecision first = quotas.admit(request("acme", 1, 10, null, null, 1), budget("acme", 1, 1.0, 0.6)).await();
    assertThat(first.allowed()).isTrue();
    assertThat(first.budget().remainingUsd()).isCloseTo(0.4, within(1e-9));
    QuotaDecision over = quotas.admit(request("acme", 2, 10, null, null, 1), budget("acme", 2, 1.0, 0.6)).await();
    assertThat(over.allowed()).isFalse();
    assertThat(over.budget().allowed()).isFalse();
    // the refused request took no request slot: 10 - 1 admitted = 9 left
    RateLimitDecision next = quotas.admit(request("acme", 3, 10, null, null, 1)).await();
    assertThat(next.requestsRemaining()).isEqualTo(8);
  }

  @Test
  void admissionAndSettlementCostOneScriptEachAndAtMostEightCommands() throws Exception {
    RedisQuotas quotas = quotas(1);
    LimitRequest warm = request("acme", 0, 100, 100_000, null, 10);
    BudgetRequest warmBudget = budget("acme", 0, 10.0, 0.01);
    QuotaDecision warmed = quotas.admit(warm, warmBudget).await(); // the account exists and both scripts are loaded
    quotas.settle(warm, warmed.limit(), warmBudget, warmed.budget(), 10, 0.001).await();
    redisServer.command("CONFIG", "RESETSTAT");
    LimitRequest limits = request("acme", 1, 100, 100_000, null, 500);
    BudgetRequest money = budget("acme", 1, 10.0, 0.01);
    QuotaDecision decision = quotas.admit(limits, money).await();
    quotas.settle(limits, decision.limit(), money, decision.budget(), 120, 0.002).await();
    String stats = redisServer.command("INFO", "commandstats");
    assertThat(stats).contains("cmdstat_evalsha:calls=2,");
    assertThat(commandsSinceReset()).as(stats).isLessThanOrEqualTo(8);
  }

  @Test
  void settlementBooksTheLedgerOnceAndRefundsTokensAndReservation() throws Exception {
    RedisQuotas quotas = quotas(1);
    LimitRequest limits = request("acme", 1, null, 1000, 1, 1000);
    BudgetRequest money = budget("acme", 1, 1.0, 0.5);
    QuotaDecision decision = quotas.admit(limits, money).await();
    assertThat(quotas.admit(request("acme", 2, null, 1000, 1, 1)).await().denial()).isEqualTo(RateLimitDecision.Denial.CONCURRENCY);
    quotas.settle(limits, decision.limit(), money, decision.budget(), 100, 0.125).await();
    // the usage event of the same request must not book it again
    quotas.bookSpend("acme", "req-1", today, 0.125).await();
    String account = RedisQuotas.account("acme", today);
    assertThat(redisServer.command("HGET", account, "sd" + today.getDayOfMonth())).contains("125000000");
    assertThat(redisServer.command("HGET", account, "bd" + today.getDayOfMonth())).contains("125000000");
    RateLimitDecision next = quotas.admit(request("acme", 3, null, 1000, 1, 800)).await();
    assertThat(next.allowed()).as("slot freed and 900 tokens refunded").isTrue();
  }

  @Test
  void unadmittedSpendIsBookedOncePerRequestId() throws Exception {
    RedisQuotas quotas = quotas(1);
    for (int i = 0; i < 3; i++) quotas.bookSpend("acme", "req-9", today, 0.25).await();
    quotas.bookSpend("acme", "req-10", today, 0.25).await();
    assertThat(redisServer.command("HGET", RedisQuotas.account("acme", today), "sm")).contains("500000000");
  }

  @Test
  void deniedRequestReportsRetryAfterAndReset() {
    RedisQuotas quotas = quotas(1);
    for (int i = 0; i < 10; i++) assertThat(quotas.admit(request("acme", i, 10, null, null, 1)).await().allowed()).isTrue();
    RateLimitDecision denied = quotas.admit(request("acme", 10, 10, null, null, 1)).await();
    assertThat(denied.denial()).isEqualTo(RateLimitDecision.Denial.REQUESTS);
    assertThat(denied.retryAfterMillis()).isBetween(1L, 6000L);
    assertThat(denied.requestsResetMillis()).isBetween(54_000L, 60_000L);
  }

  @Test
  void keysAreHashTaggedPerTenantAndExpire() throws Exception {
    RedisQuotas quotas = quotas(1);
    quotas.admit(request("acme", 1, 10, 1000, 5, 10)).await();
    for (String key : List.of(RedisQuotas.account("acme", today), "sluice:rl:{t:acme}:inflight")) {
      String ttl = redisServer.command("PTTL", key);
      assertThat(Long.parseLong(ttl.trim().substring(1))).as(key).isPositive();
    }
    assertThat(Long.parseLong(redisServer.command("PTTL", "sluice:rl:{t:acme}:inflight").trim().substring(1)))
        .as("a lease outlives its request by a minute at most").isLessThanOrEqualTo(RedisQuotas.LEASE_MILLIS);
  }

  @Test
  void scriptCacheFlushIsTransparent() throws Exception {
    RedisQuotas quotas = quotas(1);
    assertThat(quotas.admit(request("acme", 1, 10, null, null, 1)).await().allowed()).isTrue();
    redisServer.command("SCRIPT", "FLUSH");
    RateLimitDecision after = quotas.admit(request("acme", 2, 10, null, null, 1)).await();
    assertThat(after.allowed()).isTrue();
    assertThat(after.degraded()).isFalse();
    assertThat(after.requestsRemaining()).isEqualTo(8);
  }

  @Test
  void corruptFieldsAreALimiterErrorRepairedWithoutLosingTheLedger() throws Exception {
    RedisQuotas quotas = quotas(1);
    quotas.bookSpend("acme", "req-0", today, 0.5).await();
    String account = RedisQuotas.account("acme", today);
    redisServer.command("HSET", account, "r", "garbage", "t", "1");
    RateLimitDecision first = quotas.admit(request("acme", 1, 10, null, null, 1)).await();
    assertThat(first.degraded()).isTrue();
    assertThat(quotas.corruptKeys()).isEqualTo(1);
    assertThat(quotas.redisErrors()).as("garbage is not an outage").isZero();
    RateLimitDecision repaired = quotas.admit(request("acme", 2, 10, null, null, 1)).await();
    assertThat(repaired.degraded()).as(repaired.toString()).isFalse();
    assertThat(repaired.allowed()).isTrue();
    assertThat(redisServer.command("HGET", account, "sm")).contains("500000000");
  }

  @Test
  void pausedRedisIsAnsweredLocallyAndOpensTheBreakerOnlyOnItsOwnTimeouts() throws Exception {
    RedisQuotas quotas = quotas(1);
    assertThat(quotas.admit(request("acme", 0, 1000, null, null, 1)).await().degraded()).as("warm connection").isFalse();
    redisServer.command("CLIENT", "PAUSE", "3000", "ALL");
    try {
      List<Future<RateLimitDecision>> during = new ArrayList<>();
      for (int i = 1; i <= 20; i++) during.add(quotas.admit(request("acme", i, 1000, null, null, 1)));
      Future.all(during).await();
      assertThat(during).as("every request answered").allMatch(d -> d.result().allowed());
      long errors = quotas.redisErrors();
      assertThat(errors).as("timeouts that were Redis's").isBetween(1L, 20L);
      assertThat(quotas.degradedDecisions()).isGreaterThanOrEqualTo(errors);
      if (errors >= RedisBreaker.MIN_CALLS) {
        for (int i = 21; i <= 30; i++) assertThat(quotas.admit(request("acme", i, 1000, null, null, 1)).await().degraded()).isTrue();
        assertThat(quotas.redisErrors()).as("an open breaker stops paying the timeout").isEqualTo(errors);
      }
    } finally {
      redisServer.command("CLIENT", "UNPAUSE");
    }
    clock.addAndGet(RedisBreaker.OPEN.toMillis() + 1);
    for (int i = 31; i < 31 + RedisBreaker.PROBES; i++) quotas.admit(request("acme", i, 1000, null, null, 1)).await();
    assertThat(quotas.admit(request("acme", 99, 1000, null, null, 1)).await().degraded()).as("back on Redis").isFalse();
  }

  @Test
  void lostAdmissionRepliesLeaveNoOrphanedSlot() throws Exception {
    RedisQuotas quotas = quotas(1);
    Vertx vertx = vertxes.get(0);
    LimitRequest warm = request("acme", 0, null, null, 4, 0);
    RateLimitDecision warmed = quotas.admit(warm).await();
    assertThat(warmed.degraded()).as("warm connection").isFalse();
    quotas.settle(warm, warmed, 0).await();
    List<LimitRequest> requests = new ArrayList<>();
    List<Future<RateLimitDecision>> decisions = new ArrayList<>();
    // Redis stalls far longer than the command timeout: the scripts run after it, but their replies come too late.
    redisServer.command("CLIENT", "PAUSE", "3000", "ALL");
    for (int i = 1; i <= 4; i++) {
      LimitRequest r = request("acme", i, null, null, 4, 0);
      requests.add(r);
      decisions.add(quotas.admit(r));
    }
    Future.all(decisions).await();
    assertThat(decisions).as("every request answered").allMatch(d -> d.result().allowed());
    assertThat(quotas.degradedDecisions()).as("at least the one on the warm connection lost its reply").isPositive();
    for (int i = 0; i < 4; i++) quotas.settle(requests.get(i), decisions.get(i).result(), 0);
    Await.until(vertx, Duration.ofSeconds(20), "leases released in Redis",
        () -> redisServer.command("ZCARD", "sluice:rl:{t:acme}:inflight").startsWith(":0"));
    List<Future<RateLimitDecision>> after = new ArrayList<>();
    for (int i = 10; i < 14; i++) after.add(quotas.admit(request("acme", i, null, null, 4, 0)));
    Future.all(after).await();
    assertThat(after).as("the tenant's full concurrency, decided by Redis")
        .allMatch(d -> d.result().allowed() && !d.result().degraded());
  }

  @Test
  void redisOutageFailsOpenToTheLocalShareOrClosedPerTenant() throws Exception {
    RedisQuotas quotas = quotas(4);
    redisServer.stop();
    try {
      int admitted = 0;
      for (int i = 0; i < 20; i++) if (quotas.admit(request("acme", i, 20, null, null, 1)).await().allowed()) admitted++;
      assertThat(admitted).as("fail-open share = 20 / 4 replicas").isEqualTo(5);
      assertThat(quotas.admit(request("strict", 1, 20, null, null, 1, RedisFailurePolicy.FAIL_CLOSED)).await().denial())
          .isEqualTo(RateLimitDecision.Denial.LIMITER_UNAVAILABLE);
      assertThat(quotas.redisErrors()).as("the breaker opens after the minimum number of calls")
          .isEqualTo(RedisBreaker.MIN_CALLS);
      assertThat(quotas.degradedDecisions()).isEqualTo(21);
    } finally {
      redisServer.restart();
    }
    clock.addAndGet(RedisBreaker.OPEN.toMillis() + 1);
    RateLimitDecision back = quotas.admit(request("acme", 100, 20, null, null, 1)).await();
    assertThat(back.degraded()).isFalse();
    assertThat(back.allowed()).isTrue();
  }

  @Test
  void aBudgetSurvivesRedisLosingItsData() throws Exception {
    RedisQuotas quotas = quotas(1);
    for (int i = 0; i < 4; i++) {
      LimitRequest limits = request("acme", i, 100, null, null, 0);
      BudgetRequest money = budget("acme", i, 1.0, 0.2);
      QuotaDecision d = quotas.admit(limits, money).await();
      assertThat(d.allowed()).isTrue();
      quotas.settle(limits, d.limit(), money, d.budget(), 0, 0.2).await();
    }
    redisServer.flushAll(); // what a restart without persistence leaves
    QuotaDecision over = quotas.admit(request("acme", 10, 100, null, null, 0), budget("acme", 10, 1.0, 0.3)).await();
    assertThat(over.allowed()).as("0.80 spent + 0.30 > 1.00: the replica re-seeded the account").isFalse();
    assertThat(quotas.admit(request("acme", 11, 100, null, null, 0), budget("acme", 11, 1.0, 0.1)).await().allowed()).isTrue();
    assertThat(redisServer.command("HGET", RedisQuotas.account("acme", today), "sm")).contains("800000000");
  }

  @Test
  void anUnboundedTokenCostIsClampedBeforeItReachesRedisAndIsRefusedAsLargerThanTheBucket() {
    RedisQuotas limiter = quotas(1);
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
    assertThat(limiter.redisErrors() + limiter.badArguments()).isZero();
  }
}
