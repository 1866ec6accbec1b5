package dev.sluice.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The access log never blocks its caller and never loses a line silently: with a blocked sink, lines beyond the
 * queue are counted as dropped, and everything that was queued is written once the sink moves again. Its lines are
 * JSON objects whose costs read as plain decimals.
 */
class AccessLogTest {
  @Test
  void linesBeyondTheQueueOfABlockedSinkAreCountedAsDropped() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> written = new CopyOnWriteArrayList<>();
    AccessLog log = new AccessLog(4, line -> {
      entered.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      written.add(line);
    });
    log.write("line-0");
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue(); // the writer holds line-0 in the blocked sink
    for (int i = 1; i <= 10; i++) log.write("line-" + i); // returns at once although the sink is stuck
    assertThat(log.dropped()).isEqualTo(6); // 4 queued, 6 counted

    release.countDown();
    log.close(10_000);
    assertThat(written).containsExactly("line-0", "line-1", "line-2", "line-3", "line-4");
    assertThat(log.dropped()).isEqualTo(6);
  }

  @Test
  void aQueueThatNeverFillsDropsNothingAndWritesInOrder() {
    List<String> written = new CopyOnWriteArrayList<>();
    AccessLog log = new AccessLog(256, written::add);
    for (int i = 0; i < 200; i++) log.write("line-" + i);
    log.close(10_000);
    assertThat(written).hasSize(200).startsWith("line-0").endsWith("line-199");
    assertThat(log.dropped()).isZero();
  }

  private static UsageEvent costing(double costUsd, List<UsageEvent.UnbilledAttempt> unbilled) {
    return new UsageEvent(1_700_000_000_000L, "req-1", null, "acme", "acme-key-1", "chat", "gpt-4o-mini", "openai",
        "gpt-4o-mini", false, 200, "ok", null, null, 1, null, "MISS", 0, 12, 3, 0, 0, "provider", true, costUsd,
        12.5, -1, 0.2, unbilled, List.of());
  }

  @Test
  void costIsWrittenAsAPlainDecimalWithoutFloatingPointNoise() {
    String line = AccessLog.line(costing(7.2000000000000005E-6, List.of()));
    assertThat(line).contains("\"cost_usd\":0.0000072").doesNotContain("E-");
    assertThat(new JsonObject(line).getDouble("cost_usd")).isEqualTo(7.2e-6);
  }

  @Test
  void tinyAndZeroCostsStayPlainToo() {
    assertThat(AccessLog.line(costing(2e-8, List.of()))).contains("\"cost_usd\":0.00000002");
    assertThat(AccessLog.line(costing(0, List.of()))).contains("\"cost_usd\":0");
    assertThat(AccessLog.line(costing(12.5, List.of()))).contains("\"cost_usd\":12.5");
  }

  @Test
  void unbilledCostIsPlainAsWell() {
    String line = AccessLog.line(costing(0, List.of(new UsageEvent.UnbilledAttempt("openai", "gpt-4o-mini", 1.2e-6),
        new UsageEvent.UnbilledAttempt("openai", "gpt-4o-mini", 6e-7))));
    assertThat(line).contains("\"unbilled_attempts\":2", "\"unbilled_cost_usd\":0.0000018").doesNotContain("E-");
  }
}
