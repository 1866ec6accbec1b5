package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Gate;
import dev.sluice.testing.RawHttp;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.ConnectException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Graceful drain: {@code Gateway.stop()} stops taking traffic, reports not-ready, and lets requests
 * already in flight finish.
 */
class ShutdownTest {
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String READY = "GET /health/ready HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n";

  Vertx vertx;
  FakeUpstream upstream;
  TestGateway gateway;
  CompletableFuture<Void> upstreamReached = new CompletableFuture<>();
  boolean stopped;
  /** Holds the upstream's answer until the test has begun the stop: the request is in flight for as long as needed. */
  final Gate gate = new Gate();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    FakeUpstream.Script held = gate.holding(Scripts.chat("Slow but complete."));
    upstream.always(ex -> {
      upstreamReached.complete(null);
      held.play(ex);
    });
    // a grace far beyond the test's own pace, so a slow machine cannot turn the drain into a cut
    gateway = TestGateway.start(vertx, upstream.baseUrl(), "{ port: 0, instances: 1, shutdown-grace: 60s }",
        TestGateway.DEFAULT_TIMEOUTS);
  }

  @AfterEach
  void stop() {
    if (!stopped) gateway.close();
    upstream.close();
    vertx.close().await();
  }

  @Test
  void requestInFlightWhenStopIsCalledStillGetsIts200() throws Exception {
    try (RawHttp client = RawHttp.connect(gateway.port())) {
      client.write(slowChat());
      upstreamReached.get(20, TimeUnit.SECONDS);
      Future<Void> stopping = stopGateway();
      assertThat(stopping.isComplete()).as("stop waits for the request in flight").isFalse();
      gate.open();

      RawHttp.Response response = client.readResponse();
      assertThat(response).isNotNull();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).contains("Slow but complete.");
      stopping.await(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void readinessIs503WhileDraining() throws Exception {
    try (RawHttp client = RawHttp.connect(gateway.port())) {
      assertThat(client.write(READY).readResponse().status()).isEqualTo(200);
      // Pipelined behind the slow request, the readiness check is answered only after stop() has begun draining.
      client.write(slowChat()).write(READY);
      upstreamReached.get(20, TimeUnit.SECONDS);
      Future<Void> stopping = stopGateway();
      gate.open();

      assertThat(client.readResponse().status()).isEqualTo(200);
      RawHttp.Response ready = client.readResponse();
      assertThat(ready).as("readiness answer while draining").isNotNull();
      assertThat(ready.status()).isEqualTo(503);
      assertThat(ready.body()).contains("\"status\":\"draining\"");
      stopping.await(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void stoppedGatewayRefusesNewConnections() throws Exception {
    stopGateway().await(20, TimeUnit.SECONDS);
    assertThatThrownBy(() -> RawHttp.connect(gateway.port()).close()).isInstanceOf(ConnectException.class);
  }

  private Future<Void> stopGateway() {
    stopped = true;
    return gateway.gateway.stop();
  }

  private static String slowChat() {
    return "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer " + TestGateway.KEY
        + "\r\ncontent-type: application/json\r\ncontent-length: " + CHAT.length() + "\r\n\r\n" + CHAT;
  }
}
