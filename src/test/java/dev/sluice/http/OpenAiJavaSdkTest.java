package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.within;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.errors.NotFoundException;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.UnauthorizedException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.TestGateway;
import dev.sluice.usage.UsageEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official {@code openai-java} SDK, pointed at the gateway, sees what it would see from OpenAI. */
class OpenAiJavaSdkTest {
  static final String TEXT = "The quick brown fox jumps over the lazy dog.";
  static final String ARGS = "{\"city\":\"Paris\",\"unit\":\"celsius\"}";

  Vertx vertx;
  FakeUpstream upstream;
  TestGateway gateway;
  OpenAIClient client;
  final List<OpenAIClient> clients = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx).always(Scripts.chat(TEXT));
    gateway = TestGateway.start(vertx, upstream.baseUrl());
    client = client(TestGateway.KEY);
  }

  @AfterEach
  void stop() {
    clients.forEach(OpenAIClient::close);
    gateway.close();
    upstream.close();
    vertx.close().await();
  }

  /** A client for {@code key}; closed after the test. */
  OpenAIClient client(String key) {
    OpenAIClient created = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl()).apiKey(key).maxRetries(0).build();
    clients.add(created);
    return created;
  }

  static ChatCompletionCreateParams.Builder chat(String model) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say something.");
  }

  static ChatCompletionFunctionTool weatherTool() {
    return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("get_weather")
        .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
            .build())
        .build()).build();
  }

  static List<ChatCompletionChunk> streamAll(StreamResponse<ChatCompletionChunk> stream) {
    try (stream) {
      return stream.stream().collect(Collectors.toList());
    }
  }

  static String text(List<ChatCompletionChunk> chunks) {
    return chunks.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse(""))
        .collect(Collectors.joining());
  }

  static long usageChunks(List<ChatCompletionChunk> chunks) {
    return chunks.stream().filter(c -> c.usage().isPresent()).count();
  }

  @Test
  void nonStreamingChatReturnsTheUpstreamText() {
    ChatCompletion completion = client.chat().completions().create(chat("gpt-4o-mini").build());
    assertThat(completion.choices().get(0).message().content()).contains(TEXT);
    assertThat(completion.model()).isEqualTo("upstream-mini");
  }

  @Test
  void streamingChatAccumulatesToTheSameTextWithoutUsageWhenNotAsked() {
    List<ChatCompletionChunk> chunks = streamAll(client.chat().completions().createStreaming(chat("gpt-4o-mini").build()));
    assertThat(chunks.size()).isGreaterThan(3);
    assertThat(text(chunks)).isEqualTo(TEXT);
    assertThat(usageChunks(chunks)).isZero();
    // The gateway still asked the upstream for usage, for billing.
    assertThat(upstream.lastRequest().body().getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
  }

  @Test
  void streamingChatCarriesExactlyOneUsageWhenTheClientAsks() {
    ChatCompletionCreateParams params = chat("gpt-4o-mini")
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
    List<ChatCompletionChunk> chunks = streamAll(client.chat().completions().createStreaming(params));
    assertThat(text(chunks)).isEqualTo(TEXT);
    assertThat(usageChunks(chunks)).isEqualTo(1);
    assertThat(chunks.stream().filter(c -> c.usage().isPresent()).findFirst().orElseThrow().usage().get().totalTokens())
        .isEqualTo(7 + Scripts.words(TEXT).size());
  }

  @Test
  void toolCallRoundTripReturnsTheCallThenTextAfterTheToolResult() {
    upstream.next(Scripts.toolCall("call_abc123", "get_weather", ARGS, 5)).next(Scripts.chat("It is 21 degrees in Paris."));
    ChatCompletionCreateParams first = chat("gpt-4o-mini").addTool(weatherTool()).build();
    ChatCompletionMessage assistant = client.chat().completions().create(first).choices().get(0).message();
    ChatCompletionMessageFunctionToolCall call = assistant.toolCalls().orElseThrow().get(0).asFunction();
    assertThat(call.id()).isEqualTo("call_abc123");
    assertThat(call.function().name()).isEqualTo("get_weather");
    assertThat(call.function().arguments()).isEqualTo(ARGS);

    ChatCompletion answer = client.chat().completions().create(first.toBuilder().addMessage(assistant)
        .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("21C").build()).build());
    assertThat(answer.choices().get(0).message().content()).contains("It is 21 degrees in Paris.");
    JsonObject toolMessage = upstream.lastRequest().body().getJsonArray("messages").getJsonObject(2);
    assertThat(toolMessage.getString("role")).isEqualTo("tool");
    assertThat(toolMessage.getString("tool_call_id")).isEqualTo("call_abc123");
    assertThat(upstream.lastRequest().body().getJsonArray("messages").getJsonObject(1).getJsonArray("tool_calls")
        .getJsonObject(0).getJsonObject("function").getString("arguments")).isEqualTo(ARGS);
  }

  @Test
  void streamedToolCallDeltasAccumulateToTheSameCall() {
    upstream.next(Scripts.toolCall("call_abc123", "get_weather", ARGS, 4));
    ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
    List<ChatCompletionChunk> chunks = streamAll(client.chat().completions()
        .createStreaming(chat("gpt-4o-mini").addTool(weatherTool()).build()));
    chunks.forEach(accumulator::accumulate);
    assertThat(chunks.size()).isGreaterThan(ARGS.length() / 4);
    ChatCompletion.Choice choice = accumulator.chatCompletion().choices().get(0);
    ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
    assertThat(call.id()).isEqualTo("call_abc123");
    assertThat(call.function().name()).isEqualTo("get_weather");
    assertThat(call.function().arguments()).isEqualTo(ARGS);
    assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
  }

  @Test
  void jsonModeIsPassedThroughToTheUpstream() {
    upstream.next(Scripts.chat("{\"ok\":true}"));
    ChatCompletion completion = client.chat().completions().create(chat("gpt-4o-mini")
        .responseFormat(ResponseFormatJsonObject.builder().build()).build());
    assertThat(completion.choices().get(0).message().content()).contains("{\"ok\":true}");
    assertThat(upstream.lastRequest().body().getJsonObject("response_format"))
        .isEqualTo(new JsonObject().put("type", "json_object"));
  }

  @Test
  void embeddingsWithTheSdkDefaultBase64AreConvertedAndDecodeToTheUpstreamFloats() {
    float[] vector = {0.1f, -0.25f, 3.4028235e38f, 1.17549435e-38f, -0f, 0.33333334f, 12345.678f, -1e-7f};
    upstream.next(Scripts.floatEmbeddings(List.of(vector)));
    CreateEmbeddingResponse response = client.embeddings().create(EmbeddingCreateParams.builder()
        .model("text-embedding-3-small").input("hello").build());
    // openai-java asks for base64 unless told otherwise; the fake answers floats, so the gateway must convert.
    assertThat(upstream.lastRequest().body().getString("encoding_format")).isEqualTo("base64");
    assertThat(upstream.lastRequest().body().getString("model")).isEqualTo("upstream-embed");
    assertThat(response.data().get(0).embeddingValue().isBase64()).isTrue();
    assertFloats(response.data().get(0).embedding(), vector);
  }

  @Test
  void embeddingsAskedAsFloatStayFloatArrays() {
    float[] first = {0.5f, -0.125f, 0.75f, 1e-3f};
    float[] second = {-1f, 0f, 1f, 0.2f};
    upstream.next(Scripts.floatEmbeddings(List.of(first, second)));
    CreateEmbeddingResponse response = client.embeddings().create(EmbeddingCreateParams.builder()
        .model("text-embedding-3-small").inputOfArrayOfStrings(List.of("a", "b"))
        .encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).build());
    assertThat(response.data().get(0).embeddingValue().isFloats()).isTrue();
    assertFloats(response.data().get(0).embedding(), first);
    assertFloats(response.data().get(1).embedding(), second);
  }

  static void assertFloats(List<Float> actual, float[] expected) {
    assertThat(actual).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual.get(i)).as("component %d", i).isCloseTo(expected[i], within(Math.ulp(expected[i])));
    }
  }

  @Test
  void modelsListShowsOnlyTheTenantsAliases() {
    assertThat(client.models().list().data()).extracting(Model::id)
        .containsExactly("gpt-4o-mini", "text-embedding-3-small");
    assertThat(client(TestGateway.OTHER_KEY).models().list().data()).extracting(Model::id)
        .containsExactly("text-embedding-3-small");
    assertThat(client.models().retrieve("gpt-4o-mini").id()).isEqualTo("gpt-4o-mini");
  }

  @Test
  void retrievingAnUnknownModelIsNotFound() {
    assertThatThrownBy(() -> client.models().retrieve("no-such-model")).isInstanceOf(NotFoundException.class);
  }

  @Test
  void wrongKeyIsUnauthorized() {
    OpenAIClient wrong = client("sk-wrong-0123456789abcdefghijklmnopqrstuvwxyz");
    assertThatThrownBy(() -> wrong.chat().completions().create(chat("gpt-4o-mini").build()))
        .isInstanceOfSatisfying(UnauthorizedException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(401);
          assertThat(e.code()).contains("invalid_api_key");
        });
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void unknownModelAliasOnChatIsNotFound() {
    assertThatThrownBy(() -> client.chat().completions().create(chat("gpt-99").build()))
        .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).contains("model_not_found"));
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void modelOutsideTheTenantsAllowListIsPermissionDenied() {
    OpenAIClient beta = client(TestGateway.OTHER_KEY);
    assertThatThrownBy(() -> beta.chat().completions().create(chat("gpt-4o-mini").build()))
        .isInstanceOfSatisfying(PermissionDeniedException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(403);
          assertThat(e.code()).contains("model_not_allowed");
        });
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void messagesThatAreNotAnArrayAreABadRequest() {
    ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("gpt-4o-mini")
        .messages(JsonValue.from("hello")).build();
    assertThatThrownBy(() -> client.chat().completions().create(params))
        .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.param()).contains("messages"));
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void upstreamServerErrorBeforeCommitIsAServerErrorWithTheGatewaysIdAndMessage() throws Exception {
    upstream.always(Scripts.error(500, "server_error", null, "upstream exploded at db-7.internal"));
    CompletableFuture<UsageEvent> usage = new CompletableFuture<>();
    vertx.eventBus().<UsageEvent>consumer(UsageEvent.ADDRESS, m -> usage.complete(m.body())).completion().await();

    Throwable thrown = catchThrowable(() -> client.chat().completions().create(chat("gpt-4o-mini").build()));

    assertThat(thrown).isInstanceOf(InternalServerException.class);
    InternalServerException error = (InternalServerException) thrown;
    String requestId = usage.get(20, TimeUnit.SECONDS).requestId();
    assertThat(requestId).startsWith("req_");
    assertThat(error.headers().values("x-request-id")).containsExactly(requestId);
    assertThat(error.statusCode()).isBetween(500, 599);
    assertThat(error.getMessage()).contains("The upstream provider for `gpt-4o-mini`").doesNotContain("db-7");
    assertThat(error.body().toString()).doesNotContain("db-7");
    assertThat(upstream.requestCount()).isEqualTo(1);
  }
}
