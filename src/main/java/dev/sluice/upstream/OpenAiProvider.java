package dev.sluice.upstream;

import dev.sluice.config.ProviderConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;

/**
 * OpenAI and OpenAI-compatible servers (vLLM, Ollama, LM Studio): the body is passed through, the key goes in
 * {@code Authorization}. One instance per event loop (see {@link UpstreamClient}).
 */
public final class OpenAiProvider implements Provider {
  private final UpstreamClient client;
  private final String authorization;

  /** @param share the fraction of the provider's pool this instance owns (1 / number of event loops) */
  public OpenAiProvider(Vertx vertx, ProviderConfig config, int share) {
    this.client = new UpstreamClient(vertx, config, share);
    this.authorization = config.apiKey().isEmpty() ? null : "Bearer " + config.apiKey();
  }

  @Override
  public Future<UpstreamReply> send(UpstreamRequest request) {
    return client.post(request, request.endpoint().path(), request.body().toBuffer(), headers -> {
      if (authorization != null) headers.set(HttpHeaders.AUTHORIZATION, authorization);
    }, null);
  }

  @Override
  public Future<Void> close() {
    return client.close();
  }
}
