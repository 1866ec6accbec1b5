package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.ProviderScripts;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An OpenAI deployment that fails before the commit point falls back to Anthropic; the SDK sees one clean stream. */
class CrossProviderFallbackTest {
  Vertx vertx;
  FakeUpstream openai;
  FakeUpstream anthropic;
  TestGateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    openai = FakeUpstream.start(vertx);
    anthropic = FakeUpstream.start(vertx);
    String yaml = """
        server: { port: 0, instances: 1 }
        security: { key-pepper: "%s" }
        providers:
          openai: { type: openai-compatible, base-url: %s, api-key: "sk-openai-test" }
          claude: { type: anthropic, base-url: %s, api-key: "sk-ant-test" }
        models:
          gpt-4o-mini: { deployments: [ { provider: openai, model: gpt-4o-mini }, { provider: claude, model: claude-3-5-haiku-latest } ] }
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
        resilience: { max-attempts: 2, backoff-base: 5ms }
        """.formatted(TestGateway.PEPPER, openai.baseUrl(), anthropic.rootUrl(), TestGateway.digest(TestGateway.KEY));
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  @AfterEach
  void stop() {
    gateway.close();
    openai.close();
    anthropic.close();
    vertx.close().await();
  }

  @Test
  void openAi503FallsBackToAnthropicAndStreamsCleanly() throws Exception {
    openai.always(Scripts.error(503, "server_error", null, "The engine is currently overloaded"));
    anthropic.next(Scripts.frames(ProviderScripts.textStream(ProviderScripts.anthropicUsage(9, 4, 0, 0), "end_turn",
        "Answer ", "from ", "Claude."), 0, true));
    OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl()).apiKey(TestGateway.KEY).maxRetries(0).build();
    ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(ChatModel.of("gpt-4o-mini"))
        .addUserMessage("hello").build();
    String text;
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
      text = stream.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse(""))
          .collect(Collectors.joining());
    }
    assertThat(text).isEqualTo("Answer from Claude.");
    assertThat(openai.requestCount()).isEqualTo(1);
    assertThat(anthropic.requestCount()).isEqualTo(1);
    assertThat(anthropic.lastRequest().path()).isEqualTo("/v1/messages");
    assertThat(anthropic.lastRequest().body().getString("model")).isEqualTo("claude-3-5-haiku-latest");
  }
}
