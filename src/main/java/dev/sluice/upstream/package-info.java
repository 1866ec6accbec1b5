/**
 * Providers: one attempt to one deployment, with timeouts, the commit point and SSE framing. Output is always
 * OpenAI-shaped; failures are {@link dev.sluice.upstream.UpstreamFailure}. Knows nothing of the client side.
 */
package dev.sluice.upstream;
