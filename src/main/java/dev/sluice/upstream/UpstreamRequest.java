package dev.sluice.upstream;

import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;

/**
 * One attempt's input: the OpenAI-shaped body already addressed to {@code model} (the deployment's upstream name),
 * the allow-listed client headers, and the request's cancellation signal.
 */
public record UpstreamRequest(Endpoint endpoint, String model, JsonObject body, boolean stream, MultiMap headers,
                              Cancellation cancellation) {}
