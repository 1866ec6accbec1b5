package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import dev.sluice.usage.UsageEvent;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A stream that breaks after the commit point ends with the {@code stream_interrupted} error event and then a closed
 * connection, without {@code [DONE]} and without the final empty chunk: clients that ignore SSE error events (LangChain4j,
 * Spring AI) must still see a failed response, not a short success.
 */
class InterruptedStreamTest extends GatewayTest {
  static final String STREAM = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  /** A role chunk and two content chunks, then the connection ends without a finish reason or {@code [DONE]}. */
  static FakeUpstream.Script cutAfterTwoPieces() {
    return ex -> {
      List<String> frames = new ArrayList<>();
      frames.add(Scripts.data(Scripts.chunk(ex.model(), new JsonObject().put("role", "assistant").put("content", ""), null)));
      frames.add(Scripts.data(Scripts.chunk(ex.model(), new JsonObject().put("content", "Hello "), null)));
      frames.add(Scripts.data(Scripts.chunk(ex.model(), new JsonObject().put("content", "wor"), null)));
      Scripts.frames(frames, 0, true).play(ex);
    };
  }

  @Test
  void streamCutAfterTheCommitPointEndsWithTheErrorEventAndNoFinalChunk() throws Exception {
    List<UsageEvent> events = new CopyOnWriteArrayList<>();
    vertx.eventBus().<UsageEvent>consumer(UsageEvent.ADDRESS, m -> events.add(m.body())).completion().await();
    upstream.always(cutAfterTwoPieces());
    try (RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, STREAM)) {
      assertThat(client.status()).isEqualTo(200);
      List<String> received = client.remainingEvents();
      assertThat(received).hasSize(4);
      assertThat(Sse.contents(received.subList(0, 3))).containsExactly("Hello ", "wor");
      assertThat(Sse.errorCode(received.get(3))).isEqualTo("stream_interrupted");
      assertThat(received).doesNotContain("data: [DONE]");
      assertThat(client.endedWithLastChunk()).as("the response must not be declared complete").isFalse();
    }
    Await.until(vertx, Duration.ofSeconds(20), "usage event", () -> !events.isEmpty());
    UsageEvent event = events.get(0);
    assertThat(event.outcome()).isEqualTo("partial_upstream_failure");
    assertThat(event.upstreamErrors()).containsExactly(new UsageEvent.UpstreamError("fake", "stream_cut"));
  }

  @Test
  void aCompleteStreamStillEndsWithTheFinalChunk() throws Exception {
    upstream.always(Scripts.chat("all of it"));
    try (RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, STREAM)) {
      assertThat(client.status()).isEqualTo(200);
      List<String> received = client.remainingEvents();
      assertThat(received).last().isEqualTo("data: [DONE]");
      assertThat(client.endedWithLastChunk()).isTrue();
    }
  }

  @Test
  void langChain4jReportsAnInterruptedStreamAsAnError() throws Exception {
    upstream.always(cutAfterTwoPieces());
    CompletableFuture<Object> outcome = stream(model());
    assertThat(outcome.get(20, TimeUnit.SECONDS)).as("onError, not onCompleteResponse").isInstanceOf(Throwable.class);
  }

  @Test
  void langChain4jStillCompletesAWholeStream() throws Exception {
    upstream.always(Scripts.chat("all of it"));
    Object outcome = stream(model()).get(20, TimeUnit.SECONDS);
    assertThat(outcome).isInstanceOf(ChatResponse.class);
    assertThat(((ChatResponse) outcome).aiMessage().text()).isEqualTo("all of it");
  }

  OpenAiStreamingChatModel model() {
    return OpenAiStreamingChatModel.builder().baseUrl(gateway.baseUrl()).apiKey(TestGateway.KEY).modelName("gpt-4o-mini")
        .timeout(Duration.ofSeconds(20)).build();
  }

  /** Completes with the ChatResponse of onCompleteResponse or the Throwable of onError, whichever comes first. */
  static CompletableFuture<Object> stream(OpenAiStreamingChatModel model) {
    CompletableFuture<Object> outcome = new CompletableFuture<>();
    model.chat("hi", new StreamingChatResponseHandler() {
      @Override
      public void onPartialResponse(String partial) {
      }

      @Override
      public void onCompleteResponse(ChatResponse response) {
        outcome.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        outcome.complete(error);
      }
    });
    return outcome;
  }
}
