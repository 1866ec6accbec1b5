package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Await;
import dev.sluice.testing.Endless;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Http;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Failures before the commit point: nothing is streamed, the client gets one JSON
 * error envelope with the mapped status, and a timed-out upstream connection is closed.
 */
class CommitPointTest extends GatewayTest {
  // The timeout tests below set one timeout short (useTimeouts) and script an upstream that never sends what it waits
  // for, so the answer can only come from that timeout; elapsed time is checked only from below (it did not fire
  // early), never from above, which a loaded machine could break.
  static final String STREAM = StreamFaultTest.STREAM;
  static final String PLAIN = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";


  private HttpResponse<String> post(String body) throws Exception {
    return Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
  }

  /** A JSON error envelope (not an event stream) with this status and code. */
  static void assertEnvelope(HttpResponse<String> response, int status, String code) {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.body()).doesNotContain("data:");
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(error.getString("message")).isNotBlank();
  }

  static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  @Test
  void upstream500BeforeTheFirstEventIsA503EnvelopeNotAStream() throws Exception {
    upstream.always(Scripts.error(500, "server_error", null, "internal provider failure"));
    HttpResponse<String> response = post(STREAM);
    assertEnvelope(response, 503, "upstream_unavailable");
    assertThat(response.body()).doesNotContain("internal provider failure");
  }

  @Test
  void errorEventAsTheFirstDataEventIsA502EnvelopeWithNothingStreamed() throws Exception {
    String error = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":\"x\"}}\n\n";
    upstream.always(Scripts.frames(List.of(error), 0, false));
    assertEnvelope(post(STREAM), 502, "upstream_bad_response");
  }

  @Test
  void doneAsTheFirstEventIsA502Envelope() throws Exception {
    upstream.always(Scripts.frames(List.of(Sse.DONE), 0, true));
    assertEnvelope(post(STREAM), 502, "upstream_bad_response");
  }

  @Test
  void jsonAnswerToAStreamingRequestIsA502Envelope() throws Exception {
    upstream.always(Scripts.json(200, Scripts.completion("upstream-mini", "not a stream", "stop")));
    assertEnvelope(post(STREAM), 502, "upstream_bad_response");
  }

  @Test
  void upstreamThatNeverSendsHeadersIsA504AfterTheHeadersTimeoutAndIsClosed() throws Exception {
    useTimeouts("headers: 1s");
    upstream.always(Scripts.hang());
    long start = System.nanoTime();
    HttpResponse<String> response = post(STREAM);
    assertEnvelope(response, 504, "upstream_timeout");
    assertThat(millisSince(start)).isGreaterThanOrEqualTo(900L);
    upstream.awaitClosed(0, 10_000);
    Await.until(vertx, Duration.ofSeconds(10), "in-flight back to 0", () -> gateway.gateway.inFlight() == 0);
  }

  @Test
  void headersWithoutAFirstDataEventIsA504AfterTheFirstTokenTimeout() throws Exception {
    // A comment is not a first token: it must not commit the stream nor extend the deadline.
    useTimeouts("first-token: 1s");
    upstream.always(Scripts.frames(List.of(": connected\n\n"), 0, false));
    long start = System.nanoTime();
    assertEnvelope(post(STREAM), 504, "upstream_timeout");
    assertThat(millisSince(start)).isGreaterThanOrEqualTo(900L);
    upstream.awaitClosed(0, 10_000);
  }

  @Test
  void heartbeatsBeforeTheFirstTokenDoNotExtendItsDeadline() throws Exception {
    // pings every 100 ms for ever: if they extended the deadline, no answer would come at all
    useTimeouts("first-token: 1s");
    upstream.always(Endless.framesThenForever(List.of(), Sse.PING, 100));
    long start = System.nanoTime();
    assertEnvelope(post(STREAM), 504, "upstream_timeout");
    assertThat(millisSince(start)).isGreaterThanOrEqualTo(900L);
    upstream.awaitClosed(0, 10_000);
  }

  @Test
  void nonStreamingHangIsA504AfterTheTotalTimeoutAndIsClosed() throws Exception {
    useTimeouts("total: 1s");
    upstream.always(Scripts.hang());
    long start = System.nanoTime();
    assertEnvelope(post(PLAIN), 504, "upstream_timeout");
    assertThat(millisSince(start)).isGreaterThanOrEqualTo(900L);
    upstream.awaitClosed(0, 10_000);
  }

  @Test
  void nonStreamingBodyThatStallsHalfwayIsA504AfterTheTotalTimeout() throws Exception {
    useTimeouts("total: 1s");
    upstream.always(ex -> ex.response.setStatusCode(200).putHeader("content-type", "application/json")
        .setChunked(true).write("{\"id\":\"chatcmpl-fake\","));
    assertEnvelope(post(PLAIN), 504, "upstream_timeout");
    upstream.awaitClosed(0, 10_000);
  }

  @Test
  void htmlErrorPageFromAProxyIsA502BadResponse() throws Exception {
    upstream.always(Scripts.raw(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"));
    HttpResponse<String> response = post(PLAIN);
    assertEnvelope(response, 502, "upstream_bad_response");
    assertThat(response.body()).doesNotContain("<html>");
  }

  @Test
  void htmlPageWithStatus200IsA502BadResponse() throws Exception {
    upstream.always(Scripts.raw(200, "text/html", "<html><body>hello</body></html>"));
    assertEnvelope(post(PLAIN), 502, "upstream_bad_response");
  }

  @Test
  void truncatedJsonBodyIsA502BadResponse() throws Exception {
    upstream.always(Scripts.raw(200, "application/json", "{\"id\":\"chatcmpl-fake\",\"choices\":["));
    assertEnvelope(post(PLAIN), 502, "upstream_bad_response");
  }

  @Test
  void upstream400IsPassedThroughWithItsMessageAndShouldRetryFalse() throws Exception {
    upstream.always(Scripts.error(400, "invalid_request_error", "context_length_exceeded",
        "This model's maximum context length is 128000 tokens."));
    HttpResponse<String> response = post(STREAM);
    assertEnvelope(response, 400, "context_length_exceeded");
    assertThat(response.body()).contains("maximum context length is 128000 tokens");
    assertThat(response.headers().firstValue("x-should-retry")).hasValue("false");
  }

  @Test
  void connectionRefusedIsA503UpstreamUnavailable() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    try (TestGateway refused = TestGateway.start(vertx, "http://127.0.0.1:" + closedPort + "/v1")) {
      HttpResponse<String> response = Http.post(refused.baseUrl() + "/chat/completions", TestGateway.KEY, STREAM);
      assertEnvelope(response, 503, "upstream_unavailable");
      assertThat(response.headers().firstValue("retry-after")).isPresent();
    }
  }
}
