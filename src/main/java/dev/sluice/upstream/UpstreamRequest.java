package dev.sluice.upstream;

import dev.sluice.config.ProviderTimeouts;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;

/**
 * One attempt's input: the OpenAI-shaped body already addressed to {@code model} (the deployment's upstream name),
 * the allow-listed client headers, the request's cancellation signal, and the deployment's timeout overrides.
 */
public record UpstreamRequest(Endpoint endpoint, String model, JsonObject body, boolean stream, MultiMap headers,
                              Cancellation cancellation, ProviderTimeouts timeouts) {
  public UpstreamRequest(Endpoint endpoint, String model, JsonObject body, boolean stream, MultiMap headers,
                         Cancellation cancellation) {
    this(endpoint, model, body, stream, headers, cancellation, null);
  }

  /** The deployment's own timeouts when it has them, else the provider's. */
  public ProviderTimeouts timeoutsOr(ProviderTimeouts providerDefaults) {
    return timeouts == null ? providerDefaults : timeouts;
  }
}
