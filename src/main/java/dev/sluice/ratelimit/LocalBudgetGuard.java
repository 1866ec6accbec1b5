package dev.sluice.ratelimit;

import io.vertx.core.Future;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** In-memory budgets (nano-USD counters per tenant and day/month), exact across the event loops of one process. */
public final class LocalBudgetGuard implements BudgetGuard {
  private final ConcurrentHashMap<String, AtomicLong> spent = new ConcurrentHashMap<>();
  private final java.util.function.IntSupplier divisor;

  /** @param divisor caps are divided by this when standing in for Redis across replicas */
  public LocalBudgetGuard(int divisor) {
    this(() -> divisor);
  }

  /** @param divisor read at every decision: the number of live replicas while standing in for Redis */
  public LocalBudgetGuard(java.util.function.IntSupplier divisor) {
    this.divisor = divisor;
  }

  @Override
  public Future<BudgetDecision> reserve(BudgetRequest request) {
    return Future.succeededFuture(decide(request));
  }

  BudgetDecision decide(BudgetRequest request) {
    if (request.uncapped()) return BudgetDecision.UNCAPPED;
    long est = BudgetRequest.nanos(request.estimatedUsd());
    long dayCap = share(BudgetRequest.cap(request.budget().dailyUsd()));
    long monthCap = share(BudgetRequest.cap(request.budget().monthlyUsd()));
    AtomicLong day = spent.computeIfAbsent(dayKey(request), k -> new AtomicLong());
    AtomicLong month = spent.computeIfAbsent(monthKey(request), k -> new AtomicLong());
    // Reserve the day first, then the month; undo the day if the month refuses. Each step is a CAS, so two
    // requests can never both take the last of a cap.
    if (!tryAdd(day, est, dayCap)) return new BudgetDecision(false, 0, false, false);
    if (!tryAdd(month, est, monthCap)) {
      day.accumulateAndGet(-est, BudgetRequest::saturatedAdd);
      return new BudgetDecision(false, 0, false, false);
    }
    return new BudgetDecision(true, remaining(dayCap, day.get(), monthCap, month.get()), false, false);
  }

  @Override
  public Future<Void> settle(BudgetRequest request, BudgetDecision admission, double actualUsd) {
    if (request.uncapped() || !admission.allowed()) return Future.succeededFuture();
    long delta = BudgetRequest.nanos(actualUsd) - BudgetRequest.nanos(request.estimatedUsd());
    // both terms are within 0..MAX_REQUEST_NANOS, so the delta is too; the counters saturate rather than wrap
    spent.computeIfAbsent(dayKey(request), k -> new AtomicLong()).accumulateAndGet(delta, BudgetRequest::saturatedAdd);
    spent.computeIfAbsent(monthKey(request), k -> new AtomicLong()).accumulateAndGet(delta, BudgetRequest::saturatedAdd);
    return Future.succeededFuture();
  }

  /** Spent (including open reservations) for a tenant today, in USD. */
  public double spentToday(String tenantId, java.time.LocalDate day) {
    AtomicLong v = spent.get(tenantId + "|d|" + day);
    return v == null ? 0 : v.get() / 1e9;
  }

  private long share(long cap) {
    return cap < 0 ? cap : cap / Math.max(1, divisor.getAsInt());
  }

  private static boolean tryAdd(AtomicLong counter, long amount, long cap) {
    while (true) {
      long current = counter.get();
      long next = BudgetRequest.saturatedAdd(current, amount);
      if (cap >= 0 && next > cap) return false;
      if (counter.compareAndSet(current, next)) return true;
    }
  }

  static double remaining(long dayCap, long day, long monthCap, long month) {
    long r = Long.MAX_VALUE;
    if (dayCap >= 0) r = Math.min(r, dayCap - day);
    if (monthCap >= 0) r = Math.min(r, monthCap - month);
    return r == Long.MAX_VALUE ? -1 : Math.max(0, r) / 1e9;
  }

  private static String dayKey(BudgetRequest r) {
    return r.tenantId() + "|d|" + r.day();
  }

  private static String monthKey(BudgetRequest r) {
    return r.tenantId() + "|m|" + r.day().getYear() + "-" + r.day().getMonthValue();
  }
}
