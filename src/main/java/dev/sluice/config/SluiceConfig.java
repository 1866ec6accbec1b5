package dev.sluice.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The whole validated configuration. Cross-references (aliases → providers, tenants → aliases, unique ids and
 * key digests) are checked here, with the full path in each message.
 */
public record SluiceConfig(ServerConfig server, RedisConfig redis, SecurityConfig security,
                           Map<String, ProviderConfig> providers, Map<String, ModelRoute> models,
                           Map<String, Pricing> pricing, List<TenantConfig> tenants, CacheConfig cache,
                           LimitsConfig limits, ResilienceConfig resilience) {
  public SluiceConfig {
    server = server == null ? ServerConfig.DEFAULTS : server;
    redis = redis == null ? RedisConfig.DEFAULTS : redis;
    security = security == null ? SecurityConfig.DEFAULTS : security;
    providers = providers == null ? Map.of() : unmodifiableOrdered(providers);
    models = models == null ? Map.of() : unmodifiableOrdered(models);
    pricing = pricing == null ? Map.of() : unmodifiableOrdered(pricing);
    tenants = tenants == null ? List.of() : List.copyOf(tenants);
    cache = cache == null ? CacheConfig.DEFAULTS : cache;
    limits = limits == null ? LimitsConfig.DEFAULTS : limits;
    resilience = resilience == null ? ResilienceConfig.DEFAULTS : resilience;

    List<String> problems = new ArrayList<>();
    if (providers.isEmpty()) problems.add("providers: empty (expected: at least one provider)");
    if (models.isEmpty()) problems.add("models: empty (expected: at least one alias)");
    for (Map.Entry<String, ModelRoute> alias : models.entrySet()) {
      List<Deployment> deployments = alias.getValue().deployments();
      for (int i = 0; i < deployments.size(); i++) {
        String provider = deployments.get(i).provider();
        if (!providers.containsKey(provider)) {
          problems.add("models." + alias.getKey() + ".deployments[" + i + "].provider: " + provider
              + " (expected: one of " + providers.keySet() + ")");
        }
      }
    }
    Set<String> tenantIds = new HashSet<>();
    Set<String> keyIds = new HashSet<>();
    Set<String> digests = new HashSet<>();
    for (int t = 0; t < tenants.size(); t++) {
      TenantConfig tenant = tenants.get(t);
      if (!tenantIds.add(tenant.id())) problems.add("tenants[" + t + "].id: " + tenant.id() + " (expected: unique; already used)");
      for (int k = 0; k < tenant.keys().size(); k++) {
        KeyConfig key = tenant.keys().get(k);
        if (!keyIds.add(key.id())) problems.add("tenants[" + t + "].keys[" + k + "].id: " + key.id() + " (expected: unique; already used)");
        if (!digests.add(key.digest())) problems.add("tenants[" + t + "].keys[" + k + "].digest: <redacted> (expected: unique; the same key is configured twice)");
      }
      if (tenant.models() != null) {
        for (int m = 0; m < tenant.models().size(); m++) {
          String alias = tenant.models().get(m);
          if (!models.containsKey(alias)) {
            problems.add("tenants[" + t + "].models[" + m + "]: " + alias + " (expected: one of " + models.keySet() + ")");
          }
        }
      }
    }
    if (!problems.isEmpty()) throw new ConfigException(problems);
  }

  private static <V> Map<String, V> unmodifiableOrdered(Map<String, V> map) {
    return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
