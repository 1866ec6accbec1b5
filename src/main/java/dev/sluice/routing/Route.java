package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.config.ModelRoute;
import java.util.List;

/** A resolved alias: its config and the deployments to try, in order. */
public record Route(String alias, ModelRoute config, List<Deployment> deployments) {}
