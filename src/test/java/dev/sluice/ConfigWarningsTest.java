package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.testing.TestGateway;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Valid configurations that would silently not do what they say get a warning (never an error). */
class ConfigWarningsTest {
  private static SluiceConfig withBudget(String pricing) {
    String yaml = TestGateway.yaml("http://127.0.0.1:9/v1", pricing)
        .replace("  - id: acme\n", "  - id: acme\n    budget: { daily-usd: 5 }\n");
    return ConfigLoader.parse(yaml, Map.of());
  }

  @Test
  void aBudgetOverAnUnpricedModelIsWarnedAboutWithTheModelAndAlias() {
    assertThat(ConfigWarnings.of(withBudget(""))).singleElement().asString()
        .startsWith("tenants[0].budget: acme can reach models without a price")
        .contains("upstream-mini (alias gpt-4o-mini)", "upstream-embed (alias text-embedding-3-small)");
  }

  @Test
  void pricingEveryReachableModelSilencesTheWarning() {
    assertThat(ConfigWarnings.of(withBudget("pricing: { upstream-mini: { input: 1, output: 2 }, upstream-embed: { input: 0 } }")))
        .isEmpty();
  }

  @Test
  void onlyTheAliasesTheTenantMayUseCount() {
    String yaml = TestGateway.yaml("http://127.0.0.1:9/v1", "pricing: { upstream-embed: { input: 0.02 } }")
        .replace("    models: [ text-embedding-3-small ]\n", "    models: [ text-embedding-3-small ]\n    budget: { monthly-usd: 5 }\n");
    assertThat(ConfigWarnings.of(ConfigLoader.parse(yaml, Map.of()))).isEmpty();
  }

  @Test
  void tenantsWithoutABudgetAreNotWarnedAbout() {
    assertThat(ConfigWarnings.of(TestGateway.config("http://127.0.0.1:9/v1"))).isEmpty();
  }

  @Test
  void theDefaultPepperIsWarnedAbout() {
    String yaml = TestGateway.yaml("http://127.0.0.1:9/v1", "").replace("security: { key-pepper: \"" + TestGateway.PEPPER + "\" }", "");
    assertThat(ConfigWarnings.of(ConfigLoader.parse(yaml, Map.of()))).singleElement().asString()
        .startsWith("security.key-pepper: the public default 'dev-pepper'");
  }

  @Test
  void theShippedConfigWarnsOnlyAboutItsDefaultPepper() {
    SluiceConfig shipped = ConfigLoader.load(Path.of("conf/sluice.yaml"), Map.of("OPENAI_API_KEY", "x"));
    assertThat(ConfigWarnings.of(shipped)).singleElement().asString().startsWith("security.key-pepper:");
    SluiceConfig peppered = ConfigLoader.load(Path.of("conf/sluice.yaml"),
        Map.of("OPENAI_API_KEY", "x", "SLUICE_KEY_PEPPER", "a-real-secret"));
    assertThat(ConfigWarnings.of(peppered)).isEmpty();
  }
}
