package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.auth.KeyDigest;
import dev.sluice.auth.TenantRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped conf/sluice.yaml is valid, documents every key the loader accepts (set, or shown in a commented example
 * of its section), and needs its provider secret.
 */
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
  void everyKeyTheLoaderAcceptsIsDocumented() throws Exception {
    String text = Files.readString(FILE);
    Set<String> documented = ConfigSchema.usedKeys(new ObjectMapper(new YAMLFactory()).readTree(text));
    Set<String> missing = new TreeSet<>();
    for (String key : ConfigSchema.acceptedKeys()) {
      if (!documented.contains(key) && !inACommentOfItsSection(text, key)) missing.add(key);
    }
    assertThat(missing).as("accepted keys that conf/sluice.yaml neither sets nor shows in a commented example").isEmpty();
    assertThat(ConfigSchema.acceptedKeys()).as("the comparison covers nested keys")
        .contains("server.client-write-timeout", "limits.defaults.token-burst", "pricing.*.cache-write",
            "models.*.deployments[].timeouts.first-token", "tenants[].keys[].digest", "tenants[].labels.*");
  }

  @Test
  void theShippedConfigSaysNothingIsLeftForLater() throws Exception {
    assertThat(Files.readString(FILE)).doesNotContain("later issue", "SPEC", "§");
  }

  /** A key shown only in a commented-out example ({@code # api-version: …}) of its top-level section. */
  private static boolean inACommentOfItsSection(String text, String key) {
    String section = key.split("[.\\[]", 2)[0];
    String[] parts = key.replace("[]", "").split("\\.");
    String leaf = parts[parts.length - 1].equals("*") ? parts[parts.length - 2] : parts[parts.length - 1];
    boolean inSection = false;
    Pattern named = Pattern.compile("(^|[\\s{,])" + Pattern.quote(leaf) + ":");
    for (String line : text.split("\n")) {
      if (!line.isEmpty() && !line.startsWith(" ") && !line.startsWith("#")) inSection = line.startsWith(section + ":");
      int hash = line.indexOf('#');
      if (inSection && hash >= 0 && named.matcher(line.substring(hash + 1)).find()) return true;
    }
    return false;
  }

  @Test
  void missingProviderSecretFailsWithThePath() {
    assertThatThrownBy(() -> ConfigLoader.load(FILE, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("providers.openai.api-key: environment variable OPENAI_API_KEY is not set");
  }
}
