package dev.sluice;

import dev.sluice.config.Deployment;
import dev.sluice.config.ModelRoute;
import dev.sluice.config.Pricing;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.TenantConfig;
import dev.sluice.usage.DefaultPricing;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A valid configuration that probably does not do what its author meant: printed by {@code --validate-config} and
 * logged at start and on reload, never fatal.
 */
final class ConfigWarnings {
  private ConfigWarnings() {}

  static List<String> of(SluiceConfig config) {
    List<String> warnings = new ArrayList<>();
    if (config.security().keyPepper().equals("dev-pepper") && !config.tenants().isEmpty()) {
      warnings.add("security.key-pepper: the public default 'dev-pepper' (anyone can compute key digests with it;"
          + " set SLUICE_KEY_PEPPER to a secret and re-hash the keys with `sluice hash-key`)");
    }
    Map<String, Pricing> prices = DefaultPricing.with(config.pricing());
    for (int t = 0; t < config.tenants().size(); t++) {
      TenantConfig tenant = config.tenants().get(t);
      if (tenant.budget().dailyUsd() == null && tenant.budget().monthlyUsd() == null) continue;
      Set<String> unpriced = new LinkedHashSet<>();
      for (Map.Entry<String, ModelRoute> alias : config.models().entrySet()) {
        if (!tenant.allows(alias.getKey())) continue;
        for (Deployment d : alias.getValue().deployments()) {
          if (!prices.containsKey(d.model())) unpriced.add(d.model() + " (alias " + alias.getKey() + ")");
        }
      }
      if (!unpriced.isEmpty()) {
        warnings.add("tenants[" + t + "].budget: " + tenant.id() + " can reach models without a price, whose requests"
            + " cost 0 and never count against the budget: " + String.join(", ", unpriced)
            + " (expected: a pricing.<model> entry for each; an explicit 0 if it is free)");
      }
    }
    return warnings;
  }
}
