package dev.sluice.routing;

import dev.sluice.config.ModelRoute;
import dev.sluice.config.TenantConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Alias → ordered deployments, filtered by the tenant's allow-list. Immutable; rebuilt on config reload. */
public final class ModelRouter {
  private final Map<String, ModelRoute> models;

  public ModelRouter(Map<String, ModelRoute> models) {
    this.models = Map.copyOf(models);
  }

  /** @throws RouteFailure for an unknown alias or one the tenant may not use */
  public Route resolve(TenantConfig tenant, String alias) {
    ModelRoute route = models.get(alias);
    if (route == null) throw RouteFailure.notFound(alias);
    if (!tenant.allows(alias)) throw RouteFailure.notAllowed(alias);
    return new Route(alias, route, route.deployments());
  }

  /** The aliases a tenant may use, in config order. */
  public List<String> aliasesFor(TenantConfig tenant, Iterable<String> configOrder) {
    List<String> out = new ArrayList<>();
    for (String alias : configOrder) {
      if (models.containsKey(alias) && tenant.allows(alias)) out.add(alias);
    }
    return out;
  }
}
