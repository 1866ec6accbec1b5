package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A slow client pauses upstream reads instead of making the gateway buffer the stream. The
 * upstream offers 256 MiB, far more than every socket buffer on the path can hold, so it can only finish if the
 * gateway buffers without bound.
 */
class StreamBackpressureTest {
  static final long TOTAL = 256L * 1024 * 1024;
  static final String PIECE = "x".repeat(16 * 1024);

  Vertx vertx;
  FakeUpstream upstream;
  TestGateway gateway;
  final AtomicLong written = new AtomicLong();
  final AtomicBoolean sawWriteQueueFull = new AtomicBoolean();
  /** Whether the upstream waits for drain now, and when it last wrote. */
  final AtomicBoolean paused = new AtomicBoolean();
  final AtomicLong lastWriteNanos = new AtomicLong(System.nanoTime());
  final CompletableFuture<Void> allWritten = new CompletableFuture<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    gateway = TestGateway.start(vertx, upstream.baseUrl());
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    vertx.close().await();
  }

  /** Writes content events as fast as the gateway takes them, waiting for drain whenever the write queue is full. */
  private void pump(FakeUpstream.Exchange ex) {
    Buffer event = Buffer.buffer(Sse.content(PIECE));
    while (!ex.response.closed() && written.get() < TOTAL) {
      if (ex.response.writeQueueFull()) {
        sawWriteQueueFull.set(true);
        paused.set(true);
        ex.response.drainHandler(v -> {
          paused.set(false);
          pump(ex);
        });
        return;
      }
      ex.response.write(event);
      written.addAndGet(event.length());
      lastWriteNanos.set(System.nanoTime());
    }
    if (!ex.response.closed()) {
      ex.response.end(Sse.finish() + Sse.DONE);
      allWritten.complete(null);
    }
  }

  @Test
  void slowClientPausesTheUpstreamAndReadingResumesIt() throws Exception {
    upstream.always(ex -> {
      ex.response.setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      ex.response.write(Sse.role());
      pump(ex);
    });
    RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, StreamFaultTest.STREAM, 64 * 1024);
    assertThat(client.status()).isEqualTo(200);
    assertThat(Sse.json(client.nextEvent())).isNotNull();

    // the client reads nothing more: once the buffers on the path are full the upstream makes no progress at all.
    // Waited for as a state (paused, no write for a whole second), so a slow machine that fills the buffers slowly
    // only takes longer; without backpressure the upstream would write on to the end and never pause for long.
    Await.until(vertx, Duration.ofSeconds(60), "the upstream paused for a second by a client that reads nothing",
        () -> paused.get() && System.nanoTime() - lastWriteNanos.get() > 1_000_000_000L);
    long stuckAt = written.get();
    assertThat(allWritten).isNotDone();
    assertThat(sawWriteQueueFull).isTrue();
    assertThat(stuckAt).isLessThan(TOTAL / 2);

    // reading ~8 MiB frees the path and the upstream makes progress again
    for (int i = 0; i < 500; i++) {
      String event = client.nextEvent();
      assertThat(Sse.contents(List.of(event))).as("event %d: %.200s", i, event).hasSize(1);
    }
    Await.until(vertx, Duration.ofSeconds(20), "the upstream writes again", () -> written.get() > stuckAt);

    // a paused stream is still cancelled by a disconnect
    client.close();
    upstream.awaitClosed(0, 20_000);
    Await.until(vertx, Duration.ofSeconds(20), "in-flight back to 0", () -> gateway.gateway.inFlight() == 0);
  }

  @Test
  void timePausedByASlowClientDoesNotCountAsUpstreamIdleness() throws Exception {
    // 8 MiB at once (more than the sockets between gateway and client hold, so the gateway must pause the upstream),
    // then the finish chunk and [DONE] 3 s later: three idle windows (1 s) during which the client reads nothing.
    // The client starts reading only after the tail was sent, so the upstream is never idle while the path is open.
    gateway.close();
    gateway = TestGateway.start(vertx, upstream.baseUrl(), TestGateway.DEFAULT_SERVER, TestGateway.timeoutsWith("idle: 1s"));
    CompletableFuture<Void> tailSent = new CompletableFuture<>();
    upstream.always(ex -> {
      ex.response.setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      ex.response.write(Sse.role());
      Buffer event = Buffer.buffer(Sse.content(PIECE));
      for (int i = 0; i < 512; i++) ex.response.write(event);
      ex.vertx.setTimer(3000, id -> {
        ex.response.end(Sse.finish() + Sse.DONE);
        tailSent.complete(null);
      });
    });
    try (RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY,
        StreamFaultTest.STREAM, 64 * 1024)) {
      assertThat(client.status()).isEqualTo(200);
      tailSent.get(20, TimeUnit.SECONDS);
      List<String> events = client.remainingEvents();
      assertThat(events).noneMatch(e -> Sse.errorCode(e) != null);
      assertThat(Sse.contents(events)).hasSize(512);
      assertThat(events).last().isEqualTo("data: [DONE]");
    }
  }

  @Test
  void clientThatStopsReadingIsCutAfterTheWriteTimeoutAndTheUpstreamIsCancelled() throws Exception {
    gateway.close();
    gateway = TestGateway.startYaml(vertx, TestGateway.yaml(upstream.baseUrl(), "",
        "{ port: 0, instances: 1, shutdown-grace: 2s, client-write-timeout: 500ms }", TestGateway.DEFAULT_TIMEOUTS));
    upstream.always(ex -> {
      ex.response.setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      ex.response.write(Sse.role());
      pump(ex);
    });
    RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, StreamFaultTest.STREAM, 64 * 1024);
    assertThat(client.status()).isEqualTo(200);
    // the client now reads nothing: within the write timeout (+ margin) the gateway gives up on it
    upstream.awaitClosed(0, 20_000);
    Await.until(vertx, Duration.ofSeconds(20), "in-flight released", () -> gateway.gateway.inFlight() == 0);
    assertThat(allWritten).isNotDone();
    client.close();
  }
}
