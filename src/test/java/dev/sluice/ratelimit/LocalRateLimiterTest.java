package dev.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.config.TenantLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LocalRateLimiterTest {
  final AtomicLong clock = new AtomicLong(1_000_000);
  final LocalRateLimiter limiter = new LocalRateLimiter(clock::get, 1);

  static LimitRequest request(String tenant, int id, Integer rpm, Integer tpm, Integer inFlight, long cost) {
    return new LimitRequest(tenant, "r" + id, new TenantLimits(rpm, tpm, inFlight), cost, RedisFailurePolicy.FAIL_OPEN);
  }

  @Test
  void eleventhRequestOfTenPerMinuteIsDeniedUntilTheBucketRefills() {
    for (int i = 0; i < 10; i++) assertThat(limiter.decide(request("a", i, 10, null, null, 1)).allowed()).isTrue();
    RateLimitDecision denied = limiter.decide(request("a", 10, 10, null, null, 1));
    assertThat(denied.denial()).isEqualTo(RateLimitDecision.Denial.REQUESTS);
    assertThat(denied.retryAfterMillis()).isEqualTo(6000);
    assertThat(denied.requestsRemaining()).isZero();
    assertThat(denied.requestsResetMillis()).isEqualTo(60_000);
    assertThat(limiter.decide(request("b", 0, 10, null, null, 1)).allowed()).as("other tenant").isTrue();
    clock.addAndGet(6000);
    assertThat(limiter.decide(request("a", 11, 10, null, null, 1)).allowed()).isTrue();
    assertThat(limiter.decide(request("a", 12, 10, null, null, 1)).allowed()).isFalse();
  }

  @Test
  void concurrentAdmissionsNeverExceedTheLimit() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<Boolean>> calls = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        int id = i;
        calls.add(() -> limiter.decide(request("c", id, 20, null, null, 1)).allowed());
      }
      long admitted = 0;
      for (Future<Boolean> f : pool.invokeAll(calls)) if (f.get()) admitted++;
      assertThat(admitted).isEqualTo(20);
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void settlementReturnsUnusedReservedTokens() {
    LimitRequest big = request("t", 1, null, 1000, null, 1000);
    RateLimitDecision admitted = limiter.decide(big);
    assertThat(admitted.tokensRemaining()).isZero();
    limiter.settle(big, admitted, 100);
    RateLimitDecision next = limiter.decide(request("t", 2, null, 1000, null, 900));
    assertThat(next.allowed()).isTrue();
    assertThat(next.tokensRemaining()).isZero();
  }

  @Test
  void requestLargerThanTheBucketCanNeverPass() {
    RateLimitDecision decision = limiter.decide(request("t", 1, null, 1000, null, 1001));
    assertThat(decision.denial()).isEqualTo(RateLimitDecision.Denial.LARGER_THAN_BUCKET);
  }

  @Test
  void inFlightCapIsReleasedBySettlement() {
    LimitRequest first = request("f", 1, null, null, 1, 1);
    RateLimitDecision admitted = limiter.decide(first);
    assertThat(admitted.allowed()).isTrue();
    assertThat(limiter.decide(request("f", 2, null, null, 1, 1)).denial()).isEqualTo(RateLimitDecision.Denial.CONCURRENCY);
    limiter.settle(first, admitted, 0);
    assertThat(limiter.inFlight("f")).isZero();
    assertThat(limiter.decide(request("f", 3, null, null, 1, 1)).allowed()).isTrue();
  }

  @Test
  void burstSmallerThanTheRateAdmitsTheBurstThenRefillsAtTheRate() {
    LimitRequest tenPerTenSeconds = new LimitRequest("burst", "x", new TenantLimits(60, null, null, 10, null), 1,
        RedisFailurePolicy.FAIL_OPEN);
    int admitted = 0;
    for (int i = 0; i < 11; i++) if (limiter.decide(tenPerTenSeconds).allowed()) admitted++;
    assertThat(admitted).isEqualTo(10);
    clock.addAndGet(1000);
    assertThat(limiter.decide(tenPerTenSeconds).allowed()).isTrue();
    assertThat(limiter.decide(tenPerTenSeconds).allowed()).isFalse();
  }

  @Test
  void perModelScopesHaveSeparateBuckets() {
    LimitRequest mini = new LimitRequest("m", "gpt-4o-mini", "1", new TenantLimits(1, null, null), 1, RedisFailurePolicy.FAIL_OPEN);
    LimitRequest big = new LimitRequest("m", "gpt-4o", "2", new TenantLimits(1, null, null), 1, RedisFailurePolicy.FAIL_OPEN);
    assertThat(limiter.decide(mini).allowed()).isTrue();
    assertThat(limiter.decide(mini).allowed()).isFalse();
    assertThat(limiter.decide(big).allowed()).isTrue();
  }

  @Test
  void fallbackShareDividesTheLimitByReplicas() {
    LocalRateLimiter share = new LocalRateLimiter(clock::get, 4);
    int admitted = 0;
    for (int i = 0; i < 20; i++) if (share.decide(request("s", i, 20, null, null, 1)).allowed()) admitted++;
    assertThat(admitted).isEqualTo(5);
  }
}
