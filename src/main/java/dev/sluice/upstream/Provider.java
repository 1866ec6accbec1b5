package dev.sluice.upstream;

import io.vertx.core.Future;

/**
 * One upstream provider. {@link #send} makes exactly one attempt and completes at the commit point: a whole JSON body,
 * or the first valid stream event. Any earlier problem fails the future with an {@link UpstreamFailure}, so the
 * caller may still retry or fall back. Dialect translation (Azure, Anthropic) lives inside implementations; what
 * comes out is always OpenAI-shaped.
 */
public interface Provider {
  Future<UpstreamReply> send(UpstreamRequest request);

  /** Releases connections; in-flight calls are allowed to finish. */
  Future<Void> close();
}
