package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.auth.KeyDigest;
import dev.sluice.auth.TenantRegistry;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shipped conf/sluice.yaml is valid, documents what it claims, and needs its provider secret. */
class DocumentedConfigTest {
  private static final Path FILE = Path.of("conf/sluice.yaml");

  @Test
  void shippedConfigIsValidWithTheProviderKeySet() {
    SluiceConfig config = ConfigLoader.load(FILE, Map.of("OPENAI_API_KEY", "sk-from-env"));
    assertThat(config.providers()).containsKeys("openai", "local", "mock");
    assertThat(config.providers().get("openai").apiKey()).isEqualTo("sk-from-env");
    assertThat(config.models()).containsKeys("gpt-4o-mini", "text-embedding-3-small", "mock");
    assertThat(config.tenants()).extracting(TenantConfig::id).containsExactly("acme", "beta");
    assertThat(config.security().keyPepper()).isEqualTo("dev-pepper");
  }

  @Test
  void documentedExampleKeysMatchTheirDigests() {
    SluiceConfig config = ConfigLoader.load(FILE, Map.of("OPENAI_API_KEY", "x"));
    TenantRegistry registry = new TenantRegistry(config.tenants(), new KeyDigest(config.security().keyPepper()));
    assertThat(registry.authenticate("sk-sluice-example-acme-0000000000000000000000000000000000000").tenantId()).isEqualTo("acme");
    assertThat(registry.authenticate("sk-sluice-example-beta-0000000000000000000000000000000000000").tenantId()).isEqualTo("beta");
  }

  @Test
  void missingProviderSecretFailsWithThePath() {
    assertThatThrownBy(() -> ConfigLoader.load(FILE, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("providers.openai.api-key: environment variable OPENAI_API_KEY is not set");
  }
}
