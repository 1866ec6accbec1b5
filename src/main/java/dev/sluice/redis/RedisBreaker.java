package dev.sluice.redis;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowSynchronizationStrategy;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Stops paying Redis's command timeout on every request during a real outage. A failure-rate judgement, like the
 * provider breakers (Resilience4j, lock-free count window): it opens when {@link #FAILURE_RATE}% of the last
 * {@link #WINDOW} calls failed, once at least {@link #MIN_CALLS} were made; stays open {@link #OPEN}; then lets
 * {@link #PROBES} calls through and closes or reopens on their outcome. So recovery is noticed within ≈ 2 s.
 *
 * <p>Callers report only failures that are Redis's ({@link RedisFailure#countsAgainstRedis}): connection errors,
 * error replies, or no answer within a timeout that fired on time. A stall of our own (a late timer: GC pause, cold
 * JIT, busy event loop), a full connection pool (back-pressure) or a script argument we got wrong are reported with
 * {@link #onIgnored()} and never open it. The old rule ("3 consecutive errors → open 5 s") opened on one GC pause.
 * Shared by all event loops; time from the injected clock (nothing is scheduled).
 */
public final class RedisBreaker {
  public static final int WINDOW = 20;
  public static final int MIN_CALLS = 10;
  public static final float FAILURE_RATE = 50;
  public static final Duration OPEN = Duration.ofSeconds(2);
  public static final int PROBES = 3;

  private final CircuitBreaker breaker;

  /** The shipped judgement. */
  public RedisBreaker(LongSupplier clockMillis) {
    this(MIN_CALLS, OPEN.toMillis(), clockMillis);
  }

  /**
   * @param minCalls calls seen before the failure rate is judged (tests use small numbers)
   * @param openMillis how long Redis is skipped once judged down
   */
  public RedisBreaker(int minCalls, long openMillis, LongSupplier clockMillis) {
    CircuitBreakerConfig config = CircuitBreakerConfig.custom()
        .slidingWindow(Math.max(WINDOW, minCalls), minCalls, SlidingWindowType.COUNT_BASED,
            SlidingWindowSynchronizationStrategy.LOCK_FREE)
        .failureRateThreshold(FAILURE_RATE)
        .waitDurationInOpenState(Duration.ofMillis(openMillis))
        .permittedNumberOfCallsInHalfOpenState(PROBES)
        // a probe whose caller never reports (fire-and-forget paths) must not keep it half-open forever
        .maxWaitDurationInHalfOpenState(Duration.ofMillis(Math.max(openMillis, 1000)))
        .slowCallRateThreshold(100)
        .slowCallDurationThreshold(Duration.ofDays(365)) // latency is the command timeout's business
        .automaticTransitionFromOpenToHalfOpenEnabled(false)
        .writableStackTraceEnabled(false)
        .clock(clock(clockMillis))
        .build();
    this.breaker = CircuitBreaker.of("redis", config);
  }

  private static Clock clock(LongSupplier millis) {
    return new Clock() {
      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return Instant.ofEpochMilli(millis.getAsLong());
      }

      @Override
      public long millis() {
        return millis.getAsLong();
      }
    };
  }

  /** Whether to try Redis now (always while closed; a few probes while half-open). */
  public boolean allowRequest() {
    return breaker.tryAcquirePermission();
  }

  public void onSuccess() {
    breaker.onSuccess(0, TimeUnit.NANOSECONDS);
  }

  /** A failure that is Redis's. @return true when this failure opened the breaker (log the outage once) */
  public boolean onFailure() {
    CircuitBreaker.State before = breaker.getState();
    breaker.onError(0, TimeUnit.NANOSECONDS, RedisFailure.COUNTED);
    return before != CircuitBreaker.State.OPEN && breaker.getState() == CircuitBreaker.State.OPEN;
  }

  /** The call failed for our reasons (late timer, full pool, bad argument): says nothing about Redis. */
  public void onIgnored() {
    breaker.releasePermission();
  }

  /** Reports one outcome as judged by {@link RedisFailure}. @return true when it opened the breaker */
  public boolean report(Throwable failure) {
    if (RedisFailure.countsAgainstRedis(failure)) return onFailure();
    onIgnored();
    return false;
  }

  /**
   * Records a failed call as Redis's ({@code redisFault}: counts towards opening) or as ours (gives the permission back,
   * so a half-open breaker is not starved of probes). @return whether it was Redis's
   */
  public boolean judge(boolean redisFault) {
    if (redisFault) onFailure();
    else onIgnored();
    return redisFault;
  }

  public boolean isOpen() {
    return breaker.getState() == CircuitBreaker.State.OPEN;
  }
}
