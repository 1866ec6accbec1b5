package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Await;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.Http;
import dev.sluice.testing.RawHttp;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Slow and hostile senders are bounded: heads and bodies have deadlines (408 in the envelope, then close), idle
 * keep-alive connections close, one tenant's slow uploads neither pin the process-wide in-flight cap nor grow the heap
 * with the Content-Length they declare, and connections per address can be capped. Deadline tests configure short
 * timeouts and only assert that the deadline fires, never how fast.
 */
class SlowClientTest extends GatewayTest {
  static final String SERVER = "{ port: 0, instances: 1, shutdown-grace: 2s, sse-keepalive: 15s, %s }";
  final List<RawHttp> sockets = new ArrayList<>();

  @AfterEach
  void closeSockets() throws Exception {
    for (RawHttp socket : sockets) socket.close();
  }

  void restart(String serverKeys) {
    gateway.close();
    gateway = TestGateway.start(vertx, upstream.baseUrl(), SERVER.formatted(serverKeys), TestGateway.DEFAULT_TIMEOUTS);
  }

  RawHttp open() throws Exception {
    RawHttp raw = RawHttp.connect(gateway.port());
    sockets.add(raw);
    return raw;
  }

  static String head(String key, long contentLength) {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
        + "\r\nContent-Type: application/json\r\nContent-Length: " + contentLength + "\r\n\r\n";
  }

  static void assertEnvelope(RawHttp.Response response, int status, String code) {
    assertThat(response).as("a response (null = closed without one)").isNotNull();
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("code")).isEqualTo(code);
  }

  @Test
  void unfinishedHeadersGet408AndTheConnectionCloses() throws Exception {
    restart("header-timeout: 300ms");
    RawHttp raw = open().write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    assertEnvelope(raw.readResponse(), 408, "request_timeout");
    assertThat(raw.closedByServer()).isTrue();
  }

  /** Finding 4's reproduction scaled down: 2,000 connections with unfinished heads → 200; none is held. */
  @Test
  void manyUnfinishedHeadsAreAllAnswered408AndClosed() throws Exception {
    restart("header-timeout: 300ms");
    for (int i = 0; i < 200; i++) open().write("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-" + i + ": ");
    for (RawHttp raw : sockets) {
      assertEnvelope(raw.readResponse(), 408, "request_timeout");
      assertThat(raw.closedByServer()).isTrue();
    }
    assertThat(Http.get("http://127.0.0.1:" + gateway.port() + "/health/live", null).statusCode()).isEqualTo(200);
  }

  @Test
  void aConnectionThatSendsNothingGets408() throws Exception {
    restart("header-timeout: 300ms");
    RawHttp raw = open();
    assertEnvelope(raw.readResponse(), 408, "request_timeout");
    assertThat(raw.closedByServer()).isTrue();
  }

  @Test
  void aStalledBodyGets408AndIsNeverSentUpstream() throws Exception {
    restart("body-idle-timeout: 300ms");
    RawHttp raw = open().write(head(TestGateway.KEY, 100) + "{\"model\":");
    assertEnvelope(raw.readResponse(), 408, "request_timeout");
    assertThat(raw.closedByServer()).isTrue();
    assertThat(upstream.requestCount()).isZero();
    Await.until(vertx, Duration.ofSeconds(20), "upload slot given back",
        () -> gateway.gateway.clientLimits().uploading("acme") == 0);
  }

  @Test
  void aBodyOverItsTotalDeadlineGets408EvenWhileBytesKeepComing() throws Exception {
    restart("body-timeout: 300ms");
    RawHttp raw = open().write(head(TestGateway.KEY, 10_000) + "{\"model\":");
    RawHttp.Response[] response = {null};
    // keeps the body alive (never idle for the 30 s default) until the total deadline answers
    Await.until(vertx, Duration.ofSeconds(10), "408 while the body is still trickling", () -> {
      if (raw.responseWaiting()) return (response[0] = raw.readResponse()) != null;
      raw.write(" ");
      return false;
    });
    assertEnvelope(response[0], 408, "request_timeout");
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterItsTimeout() throws Exception {
    restart("keep-alive-timeout: 300ms");
    RawHttp raw = open().write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(raw.readResponse().status()).isEqualTo(200);
    assertThat(raw.closedByServer()).as("closed with no further bytes").isTrue();
  }

  @Test
  void keepAliveRequestsWithinTheDeadlinesAreServed() throws Exception {
    // shipped defaults: a client that sends whole requests on one connection is never cut
    RawHttp raw = open();
    for (int i = 0; i < 3; i++) {
      raw.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(200);
    }
  }

  /** The reproduction scaled down: 1,000 slow bodies of one tenant → 40, max-in-flight 8 → 4. */
  @Test
  void slowBodiesOfOneTenantDoNotMakeOtherTenantsOverloaded() throws Exception {
    restart("max-in-flight: 4, max-uploads-per-tenant: 3");
    for (int i = 0; i < 40; i++) open().write(head(TestGateway.KEY, 1000) + "{\"model\":\"gp");
    Await.until(vertx, Duration.ofSeconds(10), "37 uploads refused, 3 reading",
        () -> sockets.stream().filter(this::answered).count() == 37
            && gateway.gateway.clientLimits().uploading("acme") == 3);
    for (RawHttp raw : sockets) {
      if (answered(raw)) assertEnvelope(raw.readResponse(), 429, "too_many_uploads");
    }
    assertThat(gateway.gateway.inFlight()).as("uploads hold no in-flight slot").isZero();
    for (int i = 0; i < 6; i++) {
      assertThat(Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY,
          "{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}").statusCode()).isEqualTo(200);
    }
  }

  boolean answered(RawHttp raw) {
    try {
      return raw.responseWaiting();
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void connectionsPerAddressCanBeCapped() throws Exception {
    restart("max-connections-per-address: 2");
    RawHttp first = open();
    open().write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    Await.until(vertx, Duration.ofSeconds(20), "two connections counted", () -> sockets.get(1).responseWaiting());
    RawHttp third = open();
    assertEnvelope(third.readResponse(), 429, "too_many_connections");
    assertThat(third.closedByServer()).isTrue();
    first.close();
    Await.until(vertx, Duration.ofSeconds(20), "a slot is free again after a close", () -> {
      try (RawHttp again = RawHttp.connect(gateway.port())) {
        again.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        RawHttp.Response response = again.readResponse();
        return response != null && response.status() == 200;
      }
    });
  }

  @Test
  void connectionsPerAddressAreNotCappedByDefault() throws Exception {
    for (int i = 0; i < 50; i++) open();
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(200);
    }
  }

  /**
   * Finding 3's reproduction scaled down: 100 connections each declare a 10 MB body and send 13 bytes. The old reader
   * pre-sized a buffer of min(declared, 1 MiB) per request (100 MiB here); the heap retained after a full GC must
   * not grow by anything close to that.
   */
  @Test
  void declaredContentLengthDoesNotReserveHeap() throws Exception {
    restart("max-uploads-per-tenant: 1000");
    for (int i = 0; i < 5; i++) open().write(head(TestGateway.KEY, 10_000_000) + "{\"model\":\"x\"");
    Await.until(vertx, Duration.ofSeconds(10), "warm-up uploads reading",
        () -> gateway.gateway.clientLimits().uploading("acme") == 5);
    long before = retainedHeap();
    for (int i = 0; i < 100; i++) open().write(head(TestGateway.KEY, 10_000_000) + "{\"model\":\"x\"");
    Await.until(vertx, Duration.ofSeconds(20), "all uploads reading",
        () -> gateway.gateway.clientLimits().uploading("acme") == 105);
    long grown = retainedHeap() - before;
    assertThat(grown).as("heap retained by 100 uploads of 13 bytes each").isLessThan(20L << 20);
    assertThat(Http.get("http://127.0.0.1:" + gateway.port() + "/health/live", null).statusCode()).isEqualTo(200);
  }

  static long retainedHeap() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
