package dev.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.config.BudgetConfig;
import dev.sluice.config.RedisConfig;
import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.redis.RedisBreaker;
import dev.sluice.redis.RedisConnections;
import dev.sluice.testing.SharedRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Budgets cannot be overspent by concurrent requests, in memory or across instances sharing Redis. */
class BudgetGuardTest {
  @RegisterExtension
  static final SharedRedis redisServer = new SharedRedis();
  static final LocalDate DAY = LocalDate.of(2026, 11, 27);
  final List<Vertx> vertxes = new ArrayList<>();

  @AfterEach
  void close() {
    vertxes.forEach(v -> v.close().await());
  }

  RedisQuotas guard() {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    return new RedisQuotas(vertx, RedisConnections.create(vertx, new RedisConfig(redisServer.url(), null, null)),
        RedisConfig.DEFAULT_COMMAND_TIMEOUT.toMillis(), new RedisBreaker(System::currentTimeMillis),
        new LocalRateLimiter(System::currentTimeMillis, 1), new LocalBudgetGuard(1), System::currentTimeMillis);
  }

  static BudgetRequest request(int id, Double daily, Double monthly, double estimate) {
    return new BudgetRequest("acme", "req-" + id, new BudgetConfig(daily, monthly), estimate, DAY, RedisFailurePolicy.FAIL_OPEN);
  }

  @Test
  void twoInstancesCannotOverspendTheDailyCap() {
    RedisQuotas a = guard();
    RedisQuotas b = guard();
    List<Future<BudgetDecision>> decisions = new ArrayList<>();
    for (int i = 0; i < 50; i++) decisions.add((i % 2 == 0 ? a : b).reserve(request(i, 2.0, null, 0.10)));
    long admitted = Future.all(decisions).await().list().stream().filter(d -> ((BudgetDecision) d).allowed()).count();
    assertThat(admitted).isEqualTo(20);
  }

  @Test
  void settlementReplacesTheEstimateWithTheActualCost() {
    RedisQuotas guard = guard();
    BudgetRequest first = request(1, 1.0, 5.0, 0.60);
    BudgetDecision admitted = guard.reserve(first).await();
    assertThat(admitted.remainingUsd()).isCloseTo(0.40, within(1e-9));
    assertThat(guard.reserve(request(2, 1.0, 5.0, 0.60)).await().allowed()).isFalse();
    guard.settle(first, admitted, 0.05).await();
    BudgetDecision second = guard.reserve(request(3, 1.0, 5.0, 0.60)).await();
    assertThat(second.allowed()).isTrue();
    assertThat(second.remainingUsd()).isCloseTo(0.35, within(1e-9));
  }

  @Test
  void monthlyCapAppliesToo() {
    RedisQuotas guard = guard();
    assertThat(guard.reserve(request(1, null, 0.5, 0.4)).await().allowed()).isTrue();
    assertThat(guard.reserve(request(2, null, 0.5, 0.2)).await().allowed()).isFalse();
  }

  @Test
  void inMemoryGuardIsExactUnderConcurrency() throws Exception {
    LocalBudgetGuard guard = new LocalBudgetGuard(1);
    List<Thread> threads = new ArrayList<>();
    java.util.concurrent.atomic.AtomicInteger admitted = new java.util.concurrent.atomic.AtomicInteger();
    for (int t = 0; t < 8; t++) {
      int base = t * 100;
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 100; i++) if (guard.decide(request(base + i, 1.0, 1.5, 0.01)).allowed()) admitted.incrementAndGet();
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) thread.join();
    assertThat(admitted.get()).isEqualTo(100);
    assertThat(guard.spentToday("acme", DAY)).isCloseTo(1.0, within(1e-9));
  }

  @Test
  void redisOutageFollowsTheTenantPolicy() throws Exception {
    RedisQuotas guard = guard();
    redisServer.stop();
    try {
      assertThat(guard.reserve(request(1, 1.0, null, 0.1)).await().degraded()).isTrue();
      BudgetRequest strict = new BudgetRequest("strict", "r", new BudgetConfig(1.0, null), 0.1, DAY, RedisFailurePolicy.FAIL_CLOSED);
      assertThat(guard.reserve(strict).await().unavailable()).isTrue();
    } finally {
      redisServer.restart();
    }
  }

  // --- overflow: no estimate or actual cost can wrap a counter, in memory or in Redis ---

  @Test
  void absurdEstimatesAreClampedToTheCeilingAndRefusedNotWrapped() {
    LocalBudgetGuard local = new LocalBudgetGuard(1);
    RedisQuotas redis = guard();
    for (double estimate : new double[] {Double.MAX_VALUE, Double.POSITIVE_INFINITY, Double.NaN, 4.6e18, 1e7}) {
      BudgetRequest crafted = request(1, 0.5, null, estimate);
      assertThat(crafted.estimatedUsd()).isEqualTo(dev.sluice.usage.CostCalculator.MAX_REQUEST_USD);
      assertThat(local.decide(crafted).allowed()).as("memory, %s", estimate).isFalse();
      assertThat(redis.reserve(crafted).await().allowed()).as("redis, %s", estimate).isFalse();
    }
    assertThat(request(1, 0.5, null, -3.0).estimatedUsd()).isZero();
    assertThat(local.spentToday("acme", DAY)).isZero();
    // the counters are untouched and the script still works: an honest request fits, the next one does not
    assertThat(local.decide(request(2, 0.5, null, 0.4)).allowed()).isTrue();
    assertThat(local.decide(request(3, 0.5, null, 0.2)).allowed()).isFalse();
    assertThat(redis.reserve(request(2, 0.5, null, 0.4)).await().allowed()).isTrue();
    assertThat(redis.reserve(request(3, 0.5, null, 0.2)).await().allowed()).isFalse();
    assertThat(redis.redisErrors()).isZero();
  }

  @Test
  void anAbsurdActualCostSettlesAtTheCeilingWithoutWrapping() throws Exception {
    LocalBudgetGuard local = new LocalBudgetGuard(1);
    RedisQuotas redis = guard();
    BudgetRequest admitted = request(1, BudgetConfig.MAX_USD, null, 0.1);
    BudgetDecision localDecision = local.decide(admitted);
    BudgetDecision redisDecision = redis.reserve(admitted).await();
    local.settle(admitted, localDecision, Double.POSITIVE_INFINITY).await();
    redis.settle(admitted, redisDecision, Double.POSITIVE_INFINITY).await();
    assertThat(local.spentToday("acme", DAY)).isEqualTo(dev.sluice.usage.CostCalculator.MAX_REQUEST_USD);
    // the day's budget field: the reservation replaced by the actual cost, pinned at the ceiling
    String field = "bd" + DAY.getDayOfMonth();
    assertThat(redisServer.command("HGET", RedisQuotas.account("acme", DAY), field))
        .endsWith("\r\n" + dev.sluice.usage.CostCalculator.MAX_REQUEST_NANOS + "\r\n");
    assertThat(redis.redisErrors()).isZero();
  }

  @Test
  void saturatedAddPinsInsteadOfWrapping() {
    assertThat(BudgetRequest.saturatedAdd(Long.MAX_VALUE - 1, 5)).isEqualTo(Long.MAX_VALUE);
    assertThat(BudgetRequest.saturatedAdd(Long.MIN_VALUE + 1, -5)).isEqualTo(Long.MIN_VALUE);
    assertThat(BudgetRequest.saturatedAdd(40, -2)).isEqualTo(38);
  }

  @Test
  void capsAreExactNanoUsdAndConfigBoundsThem() {
    assertThat(BudgetRequest.cap(0.5)).isEqualTo(500_000_000L);
    assertThat(BudgetRequest.cap(BudgetConfig.MAX_USD)).isEqualTo(9_000_000_000_000_000L);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BudgetConfig(1e10, null))
        .hasMessage("daily-usd: 1.0E10 (expected: 0..9000000 USD)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BudgetConfig(null, Double.POSITIVE_INFINITY))
        .hasMessageStartingWith("monthly-usd: Infinity");
  }
}
