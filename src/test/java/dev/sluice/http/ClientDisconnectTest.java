package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Await;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A client that goes away resets the upstream within 1 s and frees its in-flight slot, in every window:
 * before headers, before the first token, mid-stream, and during a non-streaming call. The provider timeouts here are
 * 10 s, so only the disconnect can explain a close within 1 s.
 */
class ClientDisconnectTest extends GatewayTest {
  static final String LONG_TIMEOUTS = "{ connect: 500ms, headers: 10s, first-token: 10s, idle: 10s, total: 10s }";
  static final String PLAIN = CommitPointTest.PLAIN;
  static final String STREAM = StreamFaultTest.STREAM;


  @Override
  protected TestGateway startGateway() {
    return TestGateway.start(vertx, upstream.baseUrl(), TestGateway.DEFAULT_SERVER, LONG_TIMEOUTS);
  }

  private RawClient post(String body) throws Exception {
    return RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, body);
  }

  private void awaitUpstreamRequest() throws Exception {
    Await.until(vertx, Duration.ofSeconds(5), "the upstream received the request", () -> upstream.requestCount() == 1);
  }

  /** Closes the client, then checks the upstream connection closed within 1 s and the in-flight slot came back. */
  private void disconnectAndAssertUpstreamReset(RawClient client) throws Exception {
    long closedByClient = System.nanoTime();
    client.close();
    long upstreamClosed = upstream.awaitClosed(0, 1000);
    assertThat((upstreamClosed - closedByClient) / 1_000_000).isLessThan(1000L);
    Await.until(vertx, Duration.ofSeconds(1), "in-flight back to 0", () -> gateway.gateway.inFlight() == 0);
  }

  @Test
  void disconnectMidStreamResetsTheUpstreamWithinOneSecond() throws Exception {
    upstream.always(Scripts.frames(Sse.concat(Sse.chunks(50), Sse.finish(), Sse.DONE), 100, true));
    RawClient client = post(STREAM);
    assertThat(client.status()).isEqualTo(200);
    assertThat(Sse.json(client.nextEvent())).isNotNull();
    assertThat(Sse.json(client.nextEvent())).isNotNull();
    disconnectAndAssertUpstreamReset(client);
  }

  @Test
  void disconnectBeforeTheFirstTokenResetsTheUpstreamWithinOneSecond() throws Exception {
    upstream.always(Scripts.frames(List.of(": connected\n\n"), 0, false));
    RawClient client = post(STREAM);
    awaitUpstreamRequest();
    disconnectAndAssertUpstreamReset(client);
  }

  @Test
  void disconnectBeforeUpstreamHeadersResetsTheUpstreamWithinOneSecond() throws Exception {
    upstream.always(Scripts.hang());
    RawClient client = post(STREAM);
    awaitUpstreamRequest();
    disconnectAndAssertUpstreamReset(client);
  }

  @Test
  void disconnectDuringANonStreamingCallResetsTheUpstreamWithinOneSecond() throws Exception {
    upstream.always(Scripts.hang());
    RawClient client = post(PLAIN);
    awaitUpstreamRequest();
    disconnectAndAssertUpstreamReset(client);
  }

  @Test
  void theGatewayStillServesAfterADisconnect() throws Exception {
    upstream.next(Scripts.hang());
    RawClient client = post(PLAIN);
    awaitUpstreamRequest();
    disconnectAndAssertUpstreamReset(client);
    upstream.always(Scripts.stream(List.of("again"), 0));
    try (RawClient second = post(STREAM)) {
      assertThat(second.remainingEvents()).last().isEqualTo("data: [DONE]");
    }
  }
}
