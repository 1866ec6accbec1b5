package dev.sluice;

import dev.sluice.auth.KeyDigest;
import dev.sluice.config.Deployment;
import dev.sluice.config.KeyConfig;
import dev.sluice.config.ModelRoute;
import dev.sluice.config.ProviderConfig;
import dev.sluice.config.ProviderType;
import dev.sluice.config.RedisConfig;
import dev.sluice.config.SecurityConfig;
import dev.sluice.config.ServerConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.TenantCacheConfig;
import dev.sluice.config.TenantConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration used when no file is given: a deterministic {@code mock} provider (or OpenAI when
 * {@code OPENAI_API_KEY} is set), common aliases, and one {@code demo} tenant (response cache on) whose key comes
 * from {@code SLUICE_DEMO_KEY} or is generated.
 */
public final class EmbeddedDefaults {
  /** The config and the demo key; {@code generatedKey} says whether the key must be shown to the operator. */
  public record Defaults(SluiceConfig config, String demoKey, boolean generatedKey) {}

  private static final List<String> CHAT_ALIASES = List.of("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "gpt-5-mini");
  private static final List<String> EMBEDDING_ALIASES = List.of("text-embedding-3-small", "text-embedding-3-large");

  private EmbeddedDefaults() {}

  public static Defaults create(Map<String, String> env) {
    String pepper = env.getOrDefault("SLUICE_KEY_PEPPER", "");
    String demoKey = env.get("SLUICE_DEMO_KEY");
    boolean generated = demoKey == null || demoKey.isBlank();
    if (generated) demoKey = KeyDigest.generateKey();
    SecurityConfig security = new SecurityConfig(pepper);
    String digest = new KeyDigest(security.keyPepper()).configDigest(demoKey);

    Map<String, ProviderConfig> providers = new LinkedHashMap<>();
    providers.put("mock", new ProviderConfig(ProviderType.MOCK, null, null, null, null, null, null, null, null, null));
    String openAiKey = env.get("OPENAI_API_KEY");
    boolean openAi = openAiKey != null && !openAiKey.isBlank();
    if (openAi) {
      providers.put("openai", new ProviderConfig(ProviderType.OPENAI, null, openAiKey, null, null, null, null, null, null, null));
    }
    Map<String, ModelRoute> models = new LinkedHashMap<>();
    for (String alias : CHAT_ALIASES) models.put(alias, route(openAi ? "openai" : "mock", alias));
    for (String alias : EMBEDDING_ALIASES) models.put(alias, route(openAi ? "openai" : "mock", alias));
    models.put("mock", route("mock", "mock"));

    TenantConfig demo = new TenantConfig("demo", List.of(new KeyConfig("demo-key", digest)), null, null, null,
        new TenantCacheConfig(true, null), null, null);
    ServerConfig server = new ServerConfig(portFrom(env), null, null, null, env.get("SLUICE_ADMIN_TOKEN"), null, null,
        null, null, null, null, null, null, null, null, null, null, null, null);
    SluiceConfig config = new SluiceConfig(server, new RedisConfig(env.get("SLUICE_REDIS_URL"), null, null), security,
        providers, models, Map.of(), List.of(demo), null, null, null);
    return new Defaults(config, demoKey, generated);
  }

  private static ModelRoute route(String provider, String model) {
    return new ModelRoute(List.of(new Deployment(provider, model, null)), null, null);
  }

  private static Integer portFrom(Map<String, String> env) {
    String port = env.get("SLUICE_PORT");
    return port == null || port.isBlank() ? null : Integer.valueOf(port.trim());
  }
}
