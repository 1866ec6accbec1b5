package dev.sluice.usage;

import dev.sluice.redis.LuaScript;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The ledger shared by all replicas: {@code sluice:spend:{t:<id>}:d:<day>} / {@code :m:<month>} nano-USD counters,
 * booked by one script that first sets a per-request marker (SET NX), so redelivery cannot double count.
 */
public final class RedisSpendLedger implements SpendLedger {
  private static final LuaScript BOOK = LuaScript.load(RedisSpendLedger.class, "spend.lua");
  private final Redis redis;
  private final long timeoutMillis;
  private final LongAdder errors = new LongAdder();

  public RedisSpendLedger(Redis redis, long timeoutMillis) {
    this.redis = redis;
    this.timeoutMillis = timeoutMillis;
  }

  private static String prefix(String tenant) {
    return "sluice:spend:{t:" + tenant + "}:";
  }

  @Override
  public Future<Void> record(UsageEvent event) {
    if (event.tenant() == null || event.costUsd() <= 0) return Future.succeededFuture();
    LocalDate day = Instant.ofEpochMilli(event.timestampMillis()).atZone(ZoneOffset.UTC).toLocalDate();
    String p = prefix(event.tenant());
    List<String> keys = List.of(p + "seen:" + event.requestId(), p + "d:" + day, p + "m:" + day.toString().substring(0, 7));
    List<String> args = List.of(Long.toString(CostCalculator.nanos(event.costUsd())), Long.toString(2 * 86_400),
        Long.toString(40 * 86_400), Long.toString(400 * 86_400));
    // Off the request path (an event consumer) a slower command is fine; 10× the request timeout.
    return BOOK.run(redis, keys, args, timeoutMillis * 10).transform(ar -> {
      if (ar.failed()) errors.increment();
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<Spend> spend(String tenant, LocalDate day) {
    String p = prefix(tenant);
    return redis.send(Request.cmd(Command.MGET).arg(p + "d:" + day).arg(p + "m:" + day.toString().substring(0, 7)))
        .timeout(timeoutMillis * 10, TimeUnit.MILLISECONDS)
        .map(r -> new Spend(tenant, day, usd(r.get(0)), usd(r.get(1))));
  }

  private static double usd(Response value) {
    return value == null ? 0 : value.toLong() / 1e9;
  }

  public long errors() {
    return errors.sum();
  }
}
