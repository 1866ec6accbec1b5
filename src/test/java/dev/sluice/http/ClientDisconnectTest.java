package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Await;
import dev.sluice.testing.Endless;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A client that goes away resets the upstream and frees its in-flight slot, in every window: before
 * headers, before the first token, mid-stream, and during a non-streaming call. The upstream never ends by itself and
 * the provider timeouts ({@link TestGateway#DEFAULT_TIMEOUTS}, 60 s) are far beyond the 20 s this test waits, so only
 * the disconnect can explain the close. How fast it propagates is not asserted: that is a benchmark's business.
 */
class ClientDisconnectTest extends GatewayTest {
  static final String PLAIN = CommitPointTest.PLAIN;
  static final String STREAM = StreamFaultTest.STREAM;


  private RawClient post(String body) throws Exception {
    return RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, body);
  }

  private void awaitUpstreamRequest() throws Exception {
    Await.until(vertx, Duration.ofSeconds(20), "the upstream received the request", () -> upstream.requestCount() == 1);
  }

  /** Closes the client, then checks the upstream connection closed and the in-flight slot came back. */
  private void disconnectAndAssertUpstreamReset(RawClient client) throws Exception {
    client.close();
    upstream.awaitClosed(0, 20_000);
    Await.until(vertx, Duration.ofSeconds(20), "in-flight back to 0", () -> gateway.gateway.inFlight() == 0);
  }

  @Test
  void disconnectMidStreamResetsTheUpstream() throws Exception {
    upstream.always(Endless.framesThenForever(List.of(Sse.role()), Sse.content("more "), 100));
    RawClient client = post(STREAM);
    assertThat(client.status()).isEqualTo(200);
    assertThat(Sse.json(client.nextEvent())).isNotNull();
    assertThat(Sse.json(client.nextEvent())).isNotNull();
    disconnectAndAssertUpstreamReset(client);
  }

  @Test
  void disconnectBeforeTheFirstTokenResetsTheUpstream() throws Exception {
    upstream.always(Scripts.frames(List.of(": connected\n\n"), 0, false));
    RawClient client = post(STREAM);
    awaitUpstreamRequest();
    disconnectAndAssertUpstreamReset(client);
  }

  @Test
  void disconnectBeforeUpstreamHeadersResetsTheUpstream() throws Exception {
    upstream.always(Scripts.hang());
    RawClient client = post(STREAM);
    awaitUpstreamRequest();
    disconnectAndAssertUpstreamReset(client);
  }

  @Test
  void disconnectDuringANonStreamingCallResetsTheUpstream() throws Exception {
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
