package dev.sluice.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.config.Pricing;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CostCalculatorTest {
  final CostCalculator calculator = new CostCalculator(Map.of("gpt-4o-mini", new Pricing(0.15, 0.075, null, 0.60)));

  @Test
  void chargesUncachedCachedAndOutputTokensAtTheirRates() {
    // 1000 prompt (400 cached) + 500 output: 600*0.15 + 400*0.075 + 500*0.60 = 90 + 30 + 300 = 420 per 1M → 0.00042
    assertThat(calculator.cost("gpt-4o-mini", 1000, 400, 0, 500)).isCloseTo(0.00042, within(1e-12));
  }

  @Test
  void unknownModelCostsNothing() {
    assertThat(calculator.cost("mystery", 1000, 0, 0, 1000)).isZero();
    assertThat(calculator.knows("mystery")).isFalse();
  }

  @Test
  void shippedPricesCoverCommonModelsAndConfigOverridesThem() {
    CostCalculator shipped = new CostCalculator(DefaultPricing.with(Map.of()));
    assertThat(shipped.knows("gpt-4o-mini")).isTrue();
    assertThat(shipped.knows("claude-3-5-haiku-latest")).isTrue();
    // 1M prompt + 1M completion tokens of gpt-4o-mini at list price: 0.15 + 0.60
    assertThat(shipped.cost("gpt-4o-mini", 1_000_000, 0, 0, 1_000_000)).isCloseTo(0.75, within(1e-9));
    CostCalculator overridden = new CostCalculator(DefaultPricing.with(Map.of("gpt-4o-mini", new Pricing(1.0, null, null, 1.0))));
    assertThat(overridden.cost("gpt-4o-mini", 1_000_000, 0, 0, 1_000_000)).isCloseTo(2.0, within(1e-9));
  }

  @Test
  void hugeOrNegativeTokenCountsStayBoundedAndNeverNegative() {
    double clamped = (CostCalculator.MAX_TOKENS * 0.15 + CostCalculator.MAX_TOKENS * 0.60) / 1e6;
    assertThat(calculator.cost("gpt-4o-mini", Long.MAX_VALUE, 0, 0, Long.MAX_VALUE)).isEqualTo(clamped);
    assertThat(calculator.cost("gpt-4o-mini", -1_000_000, -5, -5, -1_000_000)).isZero();
    assertThat(calculator.worstCase("gpt-4o-mini", 10, Long.MIN_VALUE)).isCloseTo(1.5e-6, within(1e-15));
    CostCalculator dearest = new CostCalculator(Map.of("m", new Pricing(1e6, null, null, 1e6)));
    assertThat(dearest.worstCase("m", Long.MAX_VALUE, Long.MAX_VALUE)).isEqualTo(CostCalculator.MAX_REQUEST_USD);
  }

  @Test
  void nanoUsdConversionIsClampedAndNaNCountsAsTheCeiling() {
    assertThat(CostCalculator.nanos(0.000054)).isEqualTo(54_000);
    assertThat(CostCalculator.nanos(-1)).isZero();
    assertThat(CostCalculator.nanos(Double.NaN)).isEqualTo(CostCalculator.MAX_REQUEST_NANOS);
    assertThat(CostCalculator.nanos(Double.POSITIVE_INFINITY)).isEqualTo(CostCalculator.MAX_REQUEST_NANOS);
    assertThat(CostCalculator.nanos(1e300)).isEqualTo(CostCalculator.MAX_REQUEST_NANOS);
  }

  @Test
  void pricesAboveOneDollarPerTokenAreRefusedByConfig() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Pricing(0.1, null, null, 2e6))
        .hasMessage("output: 2000000.0 (expected: 0..1000000 USD)");
  }
}
