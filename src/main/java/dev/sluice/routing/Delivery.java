package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.upstream.UpstreamReply;

import java.util.List;

/**
 * The attempt whose output reaches the client: its reply at the commit point, where it came from, how many attempts
 * were made, the fallbacks taken on the way, and the earlier attempts the provider may bill although their output was
 * abandoned ({@link OutcomeClassifier#mayBeBilled}; the tenant is not charged for them), and why each earlier attempt
 * failed ({@link dev.sluice.upstream.UpstreamFailure#cause()}).
 */
public record Delivery(UpstreamReply reply, Deployment deployment, int attempts, List<AttemptLoop.Fallback> fallbacks,
                       List<Deployment> unbilled, List<AttemptLoop.FailedAttempt> upstreamErrors) {}
