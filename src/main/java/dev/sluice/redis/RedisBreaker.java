package dev.sluice.redis;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Stops paying Redis's command timeout on every request during an outage: after {@code threshold} consecutive
 * failures Redis is skipped for {@code openMillis}; then one probe is let through and its outcome decides.
 * Shared by all event loops (atomics only).
 */
public final class RedisBreaker {
  private final int threshold;
  private final long openMillis;
  private final LongSupplier clock;
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private final AtomicLong openUntil = new AtomicLong();

  public RedisBreaker(int threshold, long openMillis, LongSupplier clock) {
    this.threshold = threshold;
    this.openMillis = openMillis;
    this.clock = clock;
  }

  /** Whether to try Redis now. While open, exactly one caller per open period gets through as the probe. */
  public boolean allowRequest() {
    long until = openUntil.get();
    if (until == 0) return true;
    long now = clock.getAsLong();
    return now >= until && openUntil.compareAndSet(until, now + openMillis);
  }

  public void onSuccess() {
    consecutiveFailures.set(0);
    openUntil.set(0);
  }

  /** @return true when this failure opened the breaker (so callers log the outage once, not per request) */
  public boolean onFailure() {
    if (consecutiveFailures.incrementAndGet() < threshold) return false;
    return openUntil.getAndSet(clock.getAsLong() + openMillis) == 0;
  }

  public boolean isOpen() {
    return openUntil.get() != 0;
  }
}
