package dev.sluice.http;

import dev.sluice.auth.KeyDigest;
import dev.sluice.auth.TenantRegistry;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.TenantConfig;
import dev.sluice.usage.CostCalculator;
import dev.sluice.usage.DefaultPricing;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import dev.sluice.routing.ModelRouter;

/**
 * One immutable snapshot of everything derived from a config version. A request takes the current snapshot when it
 * starts and keeps it to the end, so a reload never changes a request mid-flight.
 *
 * @param tenantsById the configured tenants by id (admin lookups, budget gauges, bounded metric labels)
 * @param costs the pricing table of this snapshot
 */
public record GatewayState(long version, SluiceConfig config, TenantRegistry tenants, ModelRouter router,
                           long createdEpochSeconds, Map<String, TenantConfig> tenantsById, CostCalculator costs) {

  /** The configured tenant ids (the bounded set of tenant metric labels). */
  public Set<String> tenantIds() {
    return tenantsById.keySet();
  }

  public static GatewayState build(long version, SluiceConfig config) {
    KeyDigest digest = new KeyDigest(config.security().keyPepper());
    return new GatewayState(version, config, new TenantRegistry(config.tenants(), digest),
        new ModelRouter(config.models()), System.currentTimeMillis() / 1000,
        config.tenants().stream().collect(Collectors.toUnmodifiableMap(TenantConfig::id, t -> t)),
        new CostCalculator(DefaultPricing.with(config.pricing())));
  }
}
