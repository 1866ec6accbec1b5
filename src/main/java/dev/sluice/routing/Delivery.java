package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.upstream.UpstreamReply;

/** The attempt whose output reaches the client: its reply at the commit point, where it came from, attempts made. */
public record Delivery(UpstreamReply reply, Deployment deployment, int attempts) {}
