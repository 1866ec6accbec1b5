package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Await;
import dev.sluice.testing.Endless;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Streams after the commit point: complete streams, and failures that must end in-band. */
class StreamFaultTest extends GatewayTest {
  static final String STREAM = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String STREAM_WITH_USAGE = "{\"model\":\"gpt-4o-mini\",\"stream\":true,"
      + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";


  private RawClient post(String body) throws Exception {
    return RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, body);
  }

  /** The events of a stream that was cut after {@code dataEvents} events: those, one error event, no [DONE]. */
  static void assertInterrupted(List<String> events, int dataEvents) {
    assertThat(events).hasSize(dataEvents + 1);
    assertThat(events.subList(0, dataEvents)).allSatisfy(e -> assertThat(Sse.json(e)).isNotNull());
    assertThat(Sse.errorCode(events.get(dataEvents))).isEqualTo("stream_interrupted");
    assertThat(events).doesNotContain("data: [DONE]");
  }

  @Test
  void completeStreamRelaysEventsInOrderAndEndsWithDone() throws Exception {
    upstream.always(Scripts.stream(List.of("one ", "two ", "three"), 0));
    try (RawClient client = post(STREAM)) {
      assertThat(client.status()).isEqualTo(200);
      assertThat(client.header("content-type")).startsWith("text/event-stream");
      List<String> events = client.remainingEvents();
      assertThat(Sse.contents(events)).containsExactly("one ", "two ", "three");
      assertThat(events).last().isEqualTo("data: [DONE]");
      assertThat(events).filteredOn(e -> e.equals("data: [DONE]")).hasSize(1);
    }
  }

  @Test
  void upstreamIsAlwaysAskedForUsageButTheUsageChunkIsStrippedWhenTheClientDidNotAsk() throws Exception {
    upstream.always(Scripts.stream(List.of("one ", "two"), 0));
    try (RawClient client = post(STREAM)) {
      List<String> events = client.remainingEvents();
      assertThat(events).last().isEqualTo("data: [DONE]");
      assertThat(events).noneMatch(Sse::hasUsage);
    }
    JsonObject options = upstream.lastRequest().body().getJsonObject("stream_options");
    assertThat(options.getBoolean("include_usage")).isTrue();
  }

  @Test
  void clientThatAskedForUsageGetsExactlyOneUsageChunkBeforeDone() throws Exception {
    upstream.always(Scripts.stream(List.of("one ", "two"), 0));
    try (RawClient client = post(STREAM_WITH_USAGE)) {
      List<String> events = client.remainingEvents();
      List<String> usage = events.stream().filter(Sse::hasUsage).toList();
      assertThat(usage).hasSize(1);
      assertThat(events.indexOf(usage.get(0))).isEqualTo(events.size() - 2);
      assertThat(Sse.json(usage.get(0)).getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(2);
    }
  }

  @Test
  void stallAfterThreeChunksEndsWithStreamInterruptedAndNoDoneAndClosesTheUpstream() throws Exception {
    useTimeouts("idle: 500ms");
    upstream.always(Scripts.frames(Sse.chunks(3), 0, false));
    try (RawClient client = post(STREAM)) {
      assertThat(client.status()).isEqualTo(200);
      assertInterrupted(client.remainingEvents(), 3);
    }
    upstream.awaitClosed(0, 10_000);
    Await.until(vertx, Duration.ofSeconds(10), "in-flight back to 0", () -> gateway.gateway.inFlight() == 0);
  }

  @Test
  void heartbeatCommentsDoNotKeepAStalledStreamAlive() throws Exception {
    // 3 data events then a ": ping" every 100 ms for ever: only data resets the 500 ms idle window (were it reset by
    // pings, the stream would never end and the read would time out)
    useTimeouts("idle: 500ms");
    upstream.always(Endless.framesThenForever(Sse.chunks(3), Sse.PING, 100));
    try (RawClient client = post(STREAM)) {
      for (int i = 0; i < 3; i++) assertThat(Sse.json(client.nextEvent())).isNotNull();
      long afterThird = System.nanoTime();
      String last = client.nextEvent();
      long waitedMs = (System.nanoTime() - afterThird) / 1_000_000;
      assertThat(Sse.errorCode(last)).isEqualTo("stream_interrupted");
      assertThat(waitedMs).as("not before the idle timeout").isGreaterThanOrEqualTo(300L);
      assertThat(client.nextEvent()).isNull();
    }
    upstream.awaitClosed(0, 10_000);
  }

  @Test
  void eofWithoutDoneAfterSomeChunksEndsWithStreamInterrupted() throws Exception {
    upstream.always(Scripts.frames(Sse.chunks(3), 0, true));
    try (RawClient client = post(STREAM)) {
      assertInterrupted(client.remainingEvents(), 3);
    }
  }

  @Test
  void doneWithoutAnyFinishReasonIsStillAnInterruptedStream() throws Exception {
    upstream.always(Scripts.frames(Sse.concat(Sse.chunks(3), Sse.DONE), 0, true));
    try (RawClient client = post(STREAM)) {
      assertInterrupted(client.remainingEvents(), 3);
    }
  }

  @Test
  void malformedChunkMidStreamEndsWithStreamInterrupted() throws Exception {
    upstream.always(Scripts.frames(Sse.concat(Sse.chunks(2), "data: {not json\n\n", Sse.finish(), Sse.DONE), 0, true));
    try (RawClient client = post(STREAM)) {
      assertInterrupted(client.remainingEvents(), 2);
    }
  }

  @Test
  void errorEventMidStreamEndsWithStreamInterruptedAndHidesTheProviderText() throws Exception {
    String error = "data: {\"error\":{\"message\":\"secret provider detail\",\"type\":\"server_error\",\"code\":\"boom\"}}\n\n";
    upstream.always(Scripts.frames(Sse.concat(Sse.chunks(2), error, Sse.finish(), Sse.DONE), 0, true));
    try (RawClient client = post(STREAM)) {
      List<String> events = client.remainingEvents();
      assertInterrupted(events, 2);
      assertThat(events.get(2)).doesNotContain("secret provider detail");
    }
  }

  @Test
  void upstreamResetMidStreamEndsWithStreamInterrupted() throws Exception {
    upstream.always(ex -> {
      Scripts.frames(Sse.chunks(3), 0, false).play(ex);
      ex.vertx.setTimer(100, id -> ex.request.connection().close());
    });
    try (RawClient client = post(STREAM)) {
      assertInterrupted(client.remainingEvents(), 3);
    }
  }

  @Test
  void crlfFramingAndMultiLineDataAreParsed() throws Exception {
    String multiLine = "data: {\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1,\r\n"
        + "data: \"model\":\"upstream-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"two \"},"
        + "\"finish_reason\":null}]}\r\n\r\n";
    List<String> frames = Sse.concat(List.of(Sse.role(), Sse.content("one ")), multiLine, Sse.finish(), Sse.DONE);
    upstream.always(Scripts.frames(frames.stream().map(f -> f.endsWith("\r\n\r\n") ? f : f.replace("\n", "\r\n")).toList(), 0, true));
    try (RawClient client = post(STREAM)) {
      List<String> events = client.remainingEvents();
      assertThat(Sse.contents(events)).containsExactly("one ", "two ");
      assertThat(events).last().isEqualTo("data: [DONE]");
    }
  }

  @Test
  void eventsSplitAcrossNetworkWritesAreReassembled() throws Exception {
    String all = String.join("", Sse.concat(Sse.chunks(3), Sse.finish(), Sse.DONE));
    List<String> pieces = new java.util.ArrayList<>();
    for (int i = 0; i < all.length(); i += 37) pieces.add(all.substring(i, Math.min(all.length(), i + 37)));
    upstream.always(Scripts.frames(pieces, 5, true));
    try (RawClient client = post(STREAM)) {
      List<String> events = client.remainingEvents();
      assertThat(Sse.contents(events)).containsExactly("w1 ", "w2 ");
      assertThat(events).last().isEqualTo("data: [DONE]");
    }
  }
}
