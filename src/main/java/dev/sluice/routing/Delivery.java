package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.upstream.UpstreamReply;

import java.util.List;

/**
 * The attempt whose output reaches the client: its reply at the commit point, where it came from, how many attempts
 * were made, and the fallbacks taken on the way.
 */
public record Delivery(UpstreamReply reply, Deployment deployment, int attempts, List<AttemptLoop.Fallback> fallbacks) {}
