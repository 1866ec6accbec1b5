package dev.sluice.http;

import static dev.sluice.testing.ProviderScripts.anthropicError;
import static dev.sluice.testing.ProviderScripts.anthropicJson;
import static dev.sluice.testing.ProviderScripts.anthropicUsage;
import static dev.sluice.testing.ProviderScripts.errorEvent;
import static dev.sluice.testing.ProviderScripts.message;
import static dev.sluice.testing.ProviderScripts.messageDelta;
import static dev.sluice.testing.ProviderScripts.messageStart;
import static dev.sluice.testing.ProviderScripts.messageStop;
import static dev.sluice.testing.ProviderScripts.ping;
import static dev.sluice.testing.ProviderScripts.textBlock;
import static dev.sluice.testing.ProviderScripts.textBlockEvents;
import static dev.sluice.testing.ProviderScripts.textStream;
import static dev.sluice.testing.ProviderScripts.toolUseBlock;
import static dev.sluice.testing.ProviderScripts.toolUseBlockEvents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import dev.sluice.testing.Endless;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Recorded;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An Anthropic provider behind the gateway, seen through the official openai-java SDK. */
class AnthropicProviderTest {
  static final String ARGS = "{\"city\":\"Paris\",\"unit\":\"celsius\"}";

  Vertx vertx;
  FakeUpstream upstream;
  TestGateway gateway;
  OpenAIClient client;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx).always(ex -> ex.response.setStatusCode(418).end());
    gateway = startGateway(TestGateway.DEFAULT_TIMEOUTS);
    client = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl()).apiKey(TestGateway.KEY).maxRetries(0).build();
  }

  TestGateway startGateway(String timeouts) {
    String yaml = TestGateway.yaml(upstream.rootUrl(), "", TestGateway.DEFAULT_SERVER, timeouts)
        .replace("    type: openai-compatible\n", "    type: anthropic\n    default-max-tokens: 1000\n");
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

  static List<ChatCompletionChunk> streamAll(ChatCompletionCreateParams params, OpenAIClient client) {
    try (var stream = client.chat().completions().createStreaming(params)) {
      return stream.stream().toList();
    }
  }

  static void frames(FakeUpstream upstream, List<String> frames) {
    upstream.next(Scripts.frames(frames, 0, true));
  }

  @Test
  void nonStreamingChatIsTranslatedWithCacheAwareUsage() {
    upstream.next(anthropicJson(message(new JsonArray().add(textBlock("Hello ")).add(textBlock("there.")), "end_turn",
        anthropicUsage(10, 5, 3, 20))));
    ChatCompletion completion = client.chat().completions().create(chat().build());

    assertThat(completion.choices().get(0).message().content()).contains("Hello there.");
    assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    assertThat(completion.id()).isEqualTo("msg_01FakeXyz");
    assertThat(completion.model()).isEqualTo("claude-fake-1");
    CompletionUsage usage = completion.usage().orElseThrow();
    assertThat(usage.promptTokens()).isEqualTo(10 + 3 + 20);
    assertThat(usage.completionTokens()).isEqualTo(5);
    assertThat(usage.totalTokens()).isEqualTo(38);
    assertThat(usage.promptTokensDetails().orElseThrow().cachedTokens()).contains(20L);

    Recorded request = upstream.lastRequest();
    assertThat(request.path()).isEqualTo("/v1/messages");
    assertThat(request.headers()).containsEntry("x-api-key", TestGateway.PROVIDER_KEY)
        .containsEntry("anthropic-version", "2023-06-01").doesNotContainKey("authorization");
    assertThat(request.body().getString("model")).isEqualTo("upstream-mini");
    assertThat(request.body().getInteger("max_tokens")).isEqualTo(1000);
    assertThat(request.body().containsKey("stream")).isFalse();
  }

  @Test
  void nonStreamingToolUseBecomesToolCallsWithJsonStringArguments() {
    upstream.next(anthropicJson(message(new JsonArray().add(textBlock("Checking."))
        .add(toolUseBlock("toolu_01A", "get_weather", new JsonObject(ARGS))), "tool_use", anthropicUsage(4, 9, 0, 0))));
    ChatCompletion.Choice choice = client.chat().completions().create(chat().build()).choices().get(0);
    ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
    assertThat(call.id()).isEqualTo("toolu_01A");
    assertThat(call.function().name()).isEqualTo("get_weather");
    assertThat(new JsonObject(call.function().arguments())).isEqualTo(new JsonObject(ARGS));
    assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
  }

  @Test
  void maxTokensStopIsLength() {
    upstream.next(anthropicJson(message(new JsonArray().add(textBlock("Cut")), "max_tokens", anthropicUsage(4, 2, 0, 0))));
    assertThat(client.chat().completions().create(chat().build()).choices().get(0).finishReason())
        .isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
    frames(upstream, textStream(anthropicUsage(4, 2, 0, 0), "max_tokens", "Cut", " off"));
    List<ChatCompletionChunk> chunks = streamAll(chat().build(), client);
    assertThat(chunks.stream().flatMap(c -> c.choices().stream()).filter(c -> c.finishReason().isPresent())
        .map(c -> c.finishReason().get())).containsExactly(ChatCompletionChunk.Choice.FinishReason.LENGTH);
  }

  @Test
  void requestIsTranslatedToTheMessagesApi() {
    upstream.next(anthropicJson(message(new JsonArray().add(textBlock("ok")), "end_turn", anthropicUsage(1, 1, 0, 0))));
    List<Object> messages = List.of(
        Map.of("role", "system", "content", "Be brief."),
        Map.of("role", "developer", "content", List.of(Map.of("type", "text", "text", "Use metric units."))),
        Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", "Weather in Paris and Rome?"),
            Map.of("type", "image_url", "image_url", Map.of("url", "data:image/png;base64,iVBORw0KGgo=")),
            Map.of("type", "image_url", "image_url", Map.of("url", "https://example.com/map.jpg")))),
        Map.of("role", "assistant", "content", "", "tool_calls", List.of(
            Map.of("id", "call_1", "type", "function", "function", Map.of("name", "get_weather", "arguments", "{\"city\":\"Paris\"}")),
            Map.of("id", "call_2", "type", "function", "function", Map.of("name", "get_weather", "arguments", "{\"city\":\"Rome\"}")))),
        Map.of("role", "tool", "tool_call_id", "call_1", "content", "21C"),
        Map.of("role", "tool", "tool_call_id", "call_2", "content", "25C"),
        Map.of("role", "user", "content", "Thanks."));
    List<Object> tools = List.of(Map.of("type", "function", "function", Map.of("name", "get_weather",
        "description", "Current weather", "parameters", Map.of("type", "object"))));
    client.chat().completions().create(ChatCompletionCreateParams.builder().model("gpt-4o-mini")
        .messages(JsonValue.from(messages))
        .putAdditionalBodyProperty("tools", JsonValue.from(tools))
        .putAdditionalBodyProperty("tool_choice", JsonValue.from("required"))
        .parallelToolCalls(false)
        .stopOfStrings(List.of("END"))
        .temperature(1.5)
        .user("user-42")
        .build());

    JsonObject body = upstream.lastRequest().body();
    assertThat(body.getString("system")).isEqualTo("Be brief.\nUse metric units.");
    assertThat(body.getInteger("max_tokens")).isEqualTo(1000);
    assertThat(body.getJsonArray("stop_sequences")).isEqualTo(new JsonArray().add("END"));
    assertThat(body.getDouble("temperature")).isEqualTo(1.0);
    assertThat(body.getJsonObject("metadata")).isEqualTo(new JsonObject().put("user_id", "user-42"));
    assertThat(body.getJsonArray("tools")).isEqualTo(new JsonArray().add(new JsonObject().put("name", "get_weather")
        .put("description", "Current weather").put("input_schema", new JsonObject().put("type", "object"))));
    assertThat(body.getJsonObject("tool_choice"))
        .isEqualTo(new JsonObject().put("type", "any").put("disable_parallel_tool_use", true));

    JsonArray out = body.getJsonArray("messages");
    assertThat(out).hasSize(4);
    JsonArray user = out.getJsonObject(0).getJsonArray("content");
    assertThat(user.getJsonObject(1).getJsonObject("source")).isEqualTo(new JsonObject().put("type", "base64")
        .put("media_type", "image/png").put("data", "iVBORw0KGgo="));
    assertThat(user.getJsonObject(2).getJsonObject("source"))
        .isEqualTo(new JsonObject().put("type", "url").put("url", "https://example.com/map.jpg"));
    JsonObject assistant = out.getJsonObject(1);
    assertThat(assistant.getString("role")).isEqualTo("assistant");
    assertThat(assistant.getJsonArray("content").getJsonObject(0)).isEqualTo(new JsonObject().put("type", "tool_use")
        .put("id", "call_1").put("name", "get_weather").put("input", new JsonObject().put("city", "Paris")));
    JsonObject results = out.getJsonObject(2);
    assertThat(results.getString("role")).isEqualTo("user");
    assertThat(results.getJsonArray("content")).isEqualTo(new JsonArray()
        .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "call_1").put("content", "21C"))
        .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "call_2").put("content", "25C")));
    assertThat(out.getJsonObject(3)).isEqualTo(new JsonObject().put("role", "user").put("content", "Thanks."));
  }

  @Test
  void moreThanOneChoiceIsABadRequestWithoutCallingTheProvider() {
    assertThatThrownBy(() -> client.chat().completions().create(chat().n(2).build()))
        .isInstanceOfSatisfying(BadRequestException.class, e -> {
          assertThat(e.getMessage()).contains("`n` must be 1");
          assertThat(e.param()).contains("n");
        });
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void streamingTextAccumulatesWithCacheAwareUsage() {
    frames(upstream, textStream(anthropicUsage(10, 3, 3, 20), "end_turn", "The quick ", "brown ", "fox."));
    List<ChatCompletionChunk> chunks = streamAll(chat()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build(), client);
    ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
    chunks.forEach(accumulator::accumulate);
    ChatCompletion completion = accumulator.chatCompletion();
    assertThat(completion.choices().get(0).message().content()).contains("The quick brown fox.");
    assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    assertThat(chunks).allSatisfy(c -> assertThat(c.id()).isEqualTo("msg_01FakeStream"));
    CompletionUsage usage = chunks.get(chunks.size() - 1).usage().orElseThrow();
    assertThat(usage.promptTokens()).isEqualTo(33);
    assertThat(usage.completionTokens()).isEqualTo(3);
    assertThat(usage.promptTokensDetails().orElseThrow().cachedTokens()).contains(20L);
    assertThat(chunks.stream().filter(c -> c.usage().isPresent())).hasSize(1);

    JsonObject body = upstream.lastRequest().body();
    assertThat(body.getBoolean("stream")).isTrue();
    assertThat(body.containsKey("stream_options")).isFalse();
  }

  @Test
  void streamedToolCallAfterATextBlockAccumulatesAtToolIndexZero() {
    List<String> events = new ArrayList<>();
    events.add(messageStart(anthropicUsage(12, 1, 0, 0)));
    events.addAll(textBlockEvents(0, "Let me ", "check."));
    events.add(ping());
    events.addAll(toolUseBlockEvents(1, "toolu_01B", "get_weather", "", "{\"city\":", " \"Paris\",", "\"unit\":\"celsius\"}"));
    events.add(messageDelta("tool_use", 30));
    events.add(messageStop());
    frames(upstream, events);

    List<ChatCompletionChunk> chunks = streamAll(chat().build(), client);
    ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
    chunks.forEach(accumulator::accumulate);
    ChatCompletion.Choice choice = accumulator.chatCompletion().choices().get(0);
    assertThat(choice.message().content()).contains("Let me check.");
    ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
    assertThat(call.id()).isEqualTo("toolu_01B");
    assertThat(call.function().name()).isEqualTo("get_weather");
    assertThat(new JsonObject(call.function().arguments())).isEqualTo(new JsonObject(ARGS));
    assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
    List<Long> indexes = chunks.stream().flatMap(c -> c.choices().stream())
        .flatMap(c -> c.delta().toolCalls().orElse(List.of()).stream()).map(t -> t.index()).toList();
    assertThat(indexes).hasSizeGreaterThan(3).containsOnly(0L);
  }

  @Test
  void overloaded529IsA503ForTheClient() {
    upstream.always(anthropicError(529, "overloaded_error", "Overloaded"));
    assertThatThrownBy(() -> client.chat().completions().create(chat().build()))
        .isInstanceOfSatisfying(InternalServerException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(503);
          assertThat(e.getMessage()).doesNotContain("Overloaded");
        });
    assertThat(upstream.requestCount()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void invalidRequestErrorIsPassedThroughAsA400() {
    upstream.next(anthropicError(400, "invalid_request_error", "messages: roles must alternate"));
    assertThatThrownBy(() -> client.chat().completions().create(chat().build()))
        .isInstanceOfSatisfying(BadRequestException.class, e ->
            assertThat(e.getMessage()).contains("roles must alternate"));
  }

  @Test
  void errorEventAfterContentEndsTheStreamInBandWithoutDone() throws Exception {
    List<String> events = new ArrayList<>();
    events.add(messageStart(anthropicUsage(5, 1, 0, 0)));
    events.addAll(textBlockEvents(0, "one ", "two ").subList(0, 3));
    events.add(errorEvent("overloaded_error", "Overloaded"));
    frames(upstream, events);
    try (RawClient raw = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY,
        "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")) {
      assertThat(raw.status()).isEqualTo(200);
      List<String> received = raw.remainingEvents();
      StreamFaultTest.assertInterrupted(received, 3);
      assertThat(Sse.contents(received)).containsExactly("one ", "two ");
    }
  }

  @Test
  void pingEventsAreNotProgressForTheIdleTimeout() throws Exception {
    List<String> events = new ArrayList<>();
    events.add(messageStart(anthropicUsage(5, 1, 0, 0)));
    events.addAll(textBlockEvents(0, "one ").subList(0, 2));
    // then a ping every 100 ms for ever: were pings progress, the 500 ms idle timeout would never end the stream
    gateway.close();
    gateway = startGateway(TestGateway.timeoutsWith("idle: 500ms"));
    upstream.next(Endless.framesThenForever(events, ping(), 100));
    try (RawClient raw = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY,
        "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")) {
      assertThat(raw.status()).isEqualTo(200);
      StreamFaultTest.assertInterrupted(raw.remainingEvents(), 2);
    }
  }

  @Test
  void errorEventBeforeAnyContentFailsBeforeTheCommitPoint() throws Exception {
    upstream.always(Scripts.frames(List.of(errorEvent("overloaded_error", "Overloaded")), 0, true));
    try (RawClient raw = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY,
        "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")) {
      assertThat(raw.status()).isBetween(500, 599);
      assertThat(raw.header("content-type")).startsWith("application/json");
    }
  }
}
