package dev.sluice.usage;

import dev.sluice.ratelimit.RedisQuotas;
import dev.sluice.redis.RedisFailure;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * The ledger shared by all replicas: settled spend per tenant lives in the tenant's monthly account hash
 * ({@code sluice:acct:{t:<id>}:<yyyy-mm>}, fields {@code sm} and {@code sd<dd>}, nano-USD). A request admitted through
 * Redis is booked by its settlement script ({@link RedisQuotas}), in the same round trip that settles its limits and
 * budget; any other (no limits or budget, or decided locally during an outage) is booked here, by the same script in
 * ledger-only mode. Both are exactly once per request id.
 */
public final class RedisSpendLedger implements SpendLedger {
  private final Redis redis;
  private final long timeoutMillis;
  private final RedisQuotas quotas;

  public RedisSpendLedger(Redis redis, long timeoutMillis, RedisQuotas quotas) {
    this.redis = redis;
    this.timeoutMillis = timeoutMillis;
    this.quotas = quotas;
  }

  @Override
  public Future<Void> record(UsageEvent event) {
    if (event.tenant() == null || event.costUsd() <= 0) return Future.succeededFuture();
    LocalDate day = Instant.ofEpochMilli(event.timestampMillis()).atZone(ZoneOffset.UTC).toLocalDate();
    return quotas.bookSpend(event.tenant(), event.requestId(), day, event.costUsd());
  }

  @Override
  public Future<Spend> spend(String tenant, LocalDate day) {
    Request get = Request.cmd(Command.HMGET).arg("sluice:acct:{t:" + tenant + "}:" + day.toString().substring(0, 7))
        .arg("sd" + day.getDayOfMonth()).arg("sm");
    // Off the request path (admin, metrics) a slower answer is fine: 10× the request timeout.
    return RedisFailure.within(redis.send(get), timeoutMillis * 10)
        .map(r -> new Spend(tenant, day, usd(r.get(0)), usd(r.get(1))));
  }

  /** What this replica's last booking for the tenant returned, without a round trip; else {@link #spend}. */
  @Override
  public Future<Spend> latestSpend(String tenant, LocalDate day) {
    double[] seen = quotas.lastSeenSpend(tenant, day);
    return seen == null ? spend(tenant, day) : Future.succeededFuture(new Spend(tenant, day, seen[0], seen[1]));
  }

  private static double usd(Response value) {
    return value == null ? 0 : Long.parseLong(value.toString()) / 1e9;
  }
}
