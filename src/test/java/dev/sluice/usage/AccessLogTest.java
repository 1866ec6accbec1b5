package dev.sluice.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The access-log line: one JSON object whose costs read as plain decimals. */
class AccessLogTest {
  private static UsageEvent costing(double costUsd, List<UsageEvent.UnbilledAttempt> unbilled) {
    return new UsageEvent(1_700_000_000_000L, "req-1", "acme", "acme-key-1", "chat", "gpt-4o-mini", "openai",
        "gpt-4o-mini", false, 200, "ok", null, null, 1, null, "MISS", 0, 12, 3, 0, 0, "provider", true, costUsd,
        12.5, -1, 0.2, unbilled);
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
