package dev.sluice.usage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** In-memory ledger (nano-USD counters) for the embedded default; request ids are remembered for two days. */
public final class LocalSpendLedger implements SpendLedger {
  private final ConcurrentHashMap<String, AtomicLong> totals = new ConcurrentHashMap<>();
  private final Cache<String, Boolean> seen = Caffeine.newBuilder().expireAfterWrite(Duration.ofDays(2)).maximumSize(2_000_000).build();

  @Override
  public Future<Void> record(UsageEvent event) {
    if (event.tenant() == null || event.costUsd() <= 0) return Future.succeededFuture();
    if (seen.asMap().putIfAbsent(event.requestId(), Boolean.TRUE) != null) return Future.succeededFuture();
    LocalDate day = Instant.ofEpochMilli(event.timestampMillis()).atZone(ZoneOffset.UTC).toLocalDate();
    long nanos = CostCalculator.nanos(event.costUsd());
    totals.computeIfAbsent(dayKey(event.tenant(), day), k -> new AtomicLong()).addAndGet(nanos);
    totals.computeIfAbsent(monthKey(event.tenant(), day), k -> new AtomicLong()).addAndGet(nanos);
    return Future.succeededFuture();
  }

  @Override
  public Future<Spend> spend(String tenant, LocalDate day) {
    return Future.succeededFuture(new Spend(tenant, day, usd(dayKey(tenant, day)), usd(monthKey(tenant, day))));
  }

  private double usd(String key) {
    AtomicLong v = totals.get(key);
    return v == null ? 0 : v.get() / 1e9;
  }

  private static String dayKey(String tenant, LocalDate day) {
    return tenant + "|d|" + day;
  }

  private static String monthKey(String tenant, LocalDate day) {
    return tenant + "|m|" + day.toString().substring(0, 7);
  }
}
