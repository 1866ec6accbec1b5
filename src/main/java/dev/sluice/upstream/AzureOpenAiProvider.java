package dev.sluice.upstream;

import dev.sluice.config.ProviderConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Azure OpenAI (classic deployment URLs): {@code /openai/deployments/{deployment}/…?api-version=…} with the key in
 * {@code api-key}. Bodies and errors are OpenAI-shaped and pass through; the deployment (the model's upstream name)
 * selects the model, so the body's {@code model} is left as is. Azure opens streams with a {@code choices: []}
 * chunk carrying only {@code prompt_filter_results}: it is dropped, so it is neither the commit point nor sent to
 * clients that index {@code choices[0]}.
 */
public final class AzureOpenAiProvider implements Provider {
  private static final HttpAttempt.Dialect DROP_FILTER_CHUNKS = new HttpAttempt.Dialect() {
    @Override
    public void onEvent(String event, String data, JsonObject json, Consumer<ChatChunk> out) {
      boolean noChoices = !(json.getValue("choices") instanceof JsonArray choices) || choices.isEmpty();
      if (noChoices && !(json.getValue("usage") instanceof JsonObject)) return;
      out.accept(new ChatChunk(data, json));
    }
  };

  private final UpstreamClient client;
  private final String apiKey;
  private final String query;

  public AzureOpenAiProvider(Vertx vertx, ProviderConfig config, int share) {
    this.client = new UpstreamClient(vertx, config, share);
    this.apiKey = config.apiKey();
    this.query = "?api-version=" + URLEncoder.encode(config.apiVersion(), StandardCharsets.UTF_8);
  }

  @Override
  public Future<UpstreamReply> send(UpstreamRequest request) {
    String deployment = URLEncoder.encode(request.model(), StandardCharsets.UTF_8).replace("+", "%20");
    String path = "/openai/deployments/" + deployment + request.endpoint().path() + query;
    return client.post(request, path, request.body().toBuffer(), headers -> {
      headers.remove("authorization");
      headers.set("api-key", apiKey);
    }, request.stream() ? DROP_FILTER_CHUNKS : null);
  }

  @Override
  public Future<Void> close() {
    return client.close();
  }
}
