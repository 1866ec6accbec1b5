package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Recorded;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.ProviderScripts;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An Azure OpenAI provider behind the gateway, seen through the official openai-java SDK. */
class AzureOpenAiProviderTest {
  static final String TEXT = "The quick brown fox jumps over the lazy dog.";
  static final String STREAM = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  Vertx vertx;
  FakeUpstream upstream;
  TestGateway gateway;
  OpenAIClient client;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx).always(ProviderScripts.azureChat(TEXT));
    gateway = startGateway(TestGateway.DEFAULT_TIMEOUTS);
    client = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl()).apiKey(TestGateway.KEY).maxRetries(0).build();
  }

  TestGateway startGateway(String timeouts) {
    String yaml = TestGateway.yaml(upstream.rootUrl(), "", TestGateway.DEFAULT_SERVER, timeouts)
        .replace("    type: openai-compatible\n", "    type: azure\n    api-version: 2024-10-21\n");
    return TestGateway.startYaml(vertx, yaml);
  }

  @AfterEach
  void stop() {
    client.close();
    gateway.close();
    upstream.close();
    vertx.close().await();
  }

  static ChatCompletionCreateParams.Builder chat() {
    return ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage("Say something.");
  }

  static void assertAzureRequest(Recorded request, String deployment, String operation) {
    assertThat(request.path()).isEqualTo("/openai/deployments/" + deployment + operation);
    assertThat(request.query()).isEqualTo("api-version=2024-10-21");
    assertThat(request.headers()).containsEntry("api-key", TestGateway.PROVIDER_KEY).doesNotContainKey("authorization");
  }

  @Test
  void azureRateLimitHeadersSetTheCoolDownAndTheClientsRetryAfter() throws Exception {
    // Azure's 429: retry-after-ms (more precise than retry-after) and its own x-ratelimit-* quota headers
    upstream.next(ex -> ex.response.setStatusCode(429).putHeader("retry-after-ms", "120000").putHeader("retry-after", "120")
        .putHeader("x-ratelimit-remaining-requests", "0").putHeader("x-ratelimit-remaining-tokens", "0")
        .putHeader("content-type", "application/json")
        .end("{\"error\":{\"code\":\"429\",\"message\":\"Requests to the ChatCompletions_Create Operation have exceeded "
            + "call rate limit of your current AIServices S0 pricing tier.\"}}"));
    java.net.http.HttpResponse<String> response = dev.sluice.testing.Http.post(gateway.baseUrl() + "/chat/completions",
        TestGateway.KEY, "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(new io.vertx.core.json.JsonObject(response.body()).getJsonObject("error").getString("code"))
        .isEqualTo("upstream_rate_limited");
    assertThat(response.headers().firstValue("retry-after")).hasValue("60"); // 120 s, capped for the client
    assertThat(response.body()).doesNotContain("AIServices").doesNotContain("pricing tier");
    assertThat(response.headers().firstValue("x-ratelimit-remaining-requests")).as("Azure's quota is not the tenant's")
        .isNotEqualTo(java.util.Optional.of("0"));
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  @Test
  void nonStreamingChatUsesTheDeploymentUrlApiVersionAndApiKey() {
    ChatCompletion completion = client.chat().completions().create(chat().build());
    assertThat(completion.choices().get(0).message().content()).contains(TEXT);
    assertAzureRequest(upstream.lastRequest(), "upstream-mini", "/chat/completions");
  }

  @Test
  void streamingChatDropsTheFilterChunk() {
    List<ChatCompletionChunk> chunks;
    try (var stream = client.chat().completions().createStreaming(chat()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
      chunks = stream.stream().toList();
    }
    assertThat(chunks.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse("")))
        .containsSubsequence(Scripts.words(TEXT));
    // Only the usage chunk (last) may have no choices; the filter chunk is gone.
    assertThat(chunks.subList(0, chunks.size() - 1)).allSatisfy(c -> assertThat(c.choices()).isNotEmpty());
    assertThat(chunks.get(chunks.size() - 1).usage()).isPresent();
    assertThat(chunks.get(0).id()).isEqualTo("chatcmpl-fake");
    assertAzureRequest(upstream.lastRequest(), "upstream-mini", "/chat/completions");
  }

  @Test
  void filterChunkIsNeverForwardedOnTheWire() throws Exception {
    try (RawClient raw = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, STREAM)) {
      assertThat(raw.status()).isEqualTo(200);
      List<String> events = raw.remainingEvents();
      assertThat(events).noneMatch(e -> e.contains("prompt_filter_results"));
      assertThat(Sse.json(events.get(0)).getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
          .getString("role")).isEqualTo("assistant");
      assertThat(events).last().isEqualTo("data: [DONE]");
    }
  }

  @Test
  void filterChunkAloneIsNotTheCommitPoint() throws Exception {
    // The filter chunk then silence: the first-token timeout fires before anything is committed to the client.
    gateway.close();
    gateway = startGateway(TestGateway.timeoutsWith("first-token: 1s"));
    upstream.always(Scripts.frames(List.of(ProviderScripts.azureFilterChunk()), 0, false));
    try (RawClient raw = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, STREAM)) {
      assertThat(raw.status()).isEqualTo(504);
      assertThat(raw.remainingBody()).contains("upstream_timeout");
    }
  }

  @Test
  void embeddingsUseTheEmbeddingDeployment() {
    upstream.next(Scripts.floatEmbeddings(List.of(new float[] {0.5f, -0.25f})));
    assertThat(client.embeddings().create(EmbeddingCreateParams.builder().model("text-embedding-3-small").input("hi")
        .encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).build()).data().get(0).embedding())
        .containsExactly(0.5f, -0.25f);
    assertAzureRequest(upstream.lastRequest(), "upstream-embed", "/embeddings");
  }
}
