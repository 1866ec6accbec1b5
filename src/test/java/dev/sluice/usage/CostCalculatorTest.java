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
}
