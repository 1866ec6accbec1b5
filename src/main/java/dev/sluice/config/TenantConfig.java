package dev.sluice.config;

import java.util.List;
import java.util.Map;

/**
 * One tenant: its keys (digests only), allowed aliases ({@code null} = every alias), limits, budget and cache opt-in.
 */
public record TenantConfig(String id, List<KeyConfig> keys, List<String> models, TenantLimits limits,
                           BudgetConfig budget, TenantCacheConfig cache, RedisFailurePolicy onRedisFailure,
                           Map<String, String> labels) {
  public TenantConfig {
    Checks.required("id", id);
    if (!id.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
      throw new IllegalArgumentException("id: " + id + " (expected: 1-64 chars of letters, digits, '_', '.', '-')");
    }
    if (keys == null || keys.isEmpty()) throw new IllegalArgumentException("keys: empty (expected: at least one {id, digest})");
    keys = List.copyOf(keys);
    models = models == null ? null : List.copyOf(models);
    limits = limits == null ? TenantLimits.UNLIMITED : limits;
    budget = budget == null ? BudgetConfig.NONE : budget;
    cache = cache == null ? TenantCacheConfig.OFF : cache;
    onRedisFailure = onRedisFailure == null ? RedisFailurePolicy.FAIL_OPEN : onRedisFailure;
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  public boolean allows(String alias) {
    return models == null || models.contains(alias);
  }
}
