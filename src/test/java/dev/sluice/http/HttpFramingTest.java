package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.Http;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.RawHttp;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Framing a proxy and the gateway could read differently is refused before routing (400 in the envelope, connection
 * closed, nothing pipelined behind it answered); so are heads without Host, broken percent-encoding and bad chunks.
 * The public port serves no metrics.
 */
class HttpFramingTest extends GatewayTest {
  static final String BODY = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String PIPELINED = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";

  String post(String framing, String body) {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TestGateway.KEY
        + "\r\nContent-Type: application/json\r\n" + framing + "\r\n" + body;
  }

  static String chunked(String body) {
    return Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n";
  }

  static void assertEnvelope(RawHttp.Response response, int status, String code) {
    assertThat(response).as("a response (null = closed without one)").isNotNull();
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(error.fieldNames()).containsExactlyInAnyOrder("message", "type", "param", "code");
  }

  /** Answers with one 400 envelope and closes: the pipelined request behind it never gets a response. */
  void assertRejectedAndNothingPipelinedAnswered(String request) throws Exception {
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write(request + PIPELINED);
      RawHttp.Response response = raw.readResponse();
      assertEnvelope(response, 400, "invalid_request");
      assertThat(response.header("connection")).isEqualToIgnoringCase("close");
      assertThat(raw.readResponse()).as("the pipelined request is not answered").isNull();
    }
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void contentLengthWithTransferEncodingIs400AndClosesBeforeThePipelinedRequest() throws Exception {
    assertRejectedAndNothingPipelinedAnswered(
        post("Content-Length: " + chunked(BODY).length() + "\r\nTransfer-Encoding: chunked\r\n", chunked(BODY)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"xchunked", "chunked, identity", "identity", "gzip, chunked"})
  void transferEncodingOtherThanChunkedIs400(String te) throws Exception {
    assertRejectedAndNothingPipelinedAnswered(post("Transfer-Encoding: " + te + "\r\n", chunked(BODY)));
  }

  @Test
  void transferEncodingChunkedAloneIsServed() throws Exception {
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write(post("Transfer-Encoding: chunked\r\n", chunked(BODY)));
      assertThat(raw.readResponse().status()).isEqualTo(200);
    }
  }

  @Test
  void missingHostIs400NotAnInternalError() throws Exception {
    try (LogCapture logs = LogCapture.start(Level.WARN, "dev.sluice", "io.vertx")) {
      try (RawHttp raw = RawHttp.connect(gateway.port())) {
        raw.write("GET /v1/models HTTP/1.1\r\nAuthorization: Bearer " + TestGateway.KEY + "\r\n\r\n");
        assertEnvelope(raw.readResponse(), 400, "invalid_request");
      }
      assertThat(logs.lines()).isEmpty();
    }
  }

  @Test
  void malformedPercentEncodingIs400EnvelopeWithoutAStackTrace() throws Exception {
    try (LogCapture logs = LogCapture.start(Level.DEBUG, "dev.sluice", "io.vertx")) {
      try (RawHttp raw = RawHttp.connect(gateway.port())) {
        raw.write("GET /v1/models/%zz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestGateway.KEY + "\r\n\r\n");
        RawHttp.Response response = raw.readResponse();
        assertEnvelope(response, 400, "invalid_request");
        assertThat(response.body()).contains("percent-encoding");
      }
      assertThat(logs.lines()).noneMatch(l -> l.text().contains("Exception"));
    }
  }

  @Test
  void badChunkSizeIs400Envelope() throws Exception {
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write(post("Transfer-Encoding: chunked\r\n", "zz\r\n" + BODY + "\r\n0\r\n\r\n"));
      assertEnvelope(raw.readResponse(), 400, "invalid_request");
      assertThat(raw.closedByServer()).isTrue();
    }
    assertThat(upstream.requestCount()).isZero();
  }

  @Test
  void http2PriorKnowledgeIsNotServed() throws Exception {
    // HTTP/2 ends at the proxy; the listener speaks HTTP/1.1 only, so an h2c preface gets no HTTP/2 session.
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      assertEnvelope(raw.readResponse(), 505, "http_version_not_supported");
      assertThat(raw.closedByServer()).isTrue();
    }
    assertThat(Http.get("http://127.0.0.1:" + gateway.port() + "/health/live", null).statusCode()).isEqualTo(200);
  }

  @Test
  void h2cUpgradeIsIgnoredAndServedOverHttp11() throws Exception {
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
          + "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n");
      RawHttp.Response response = raw.readResponse();
      assertThat(response.status()).isEqualTo(200);
    }
  }

  @Test
  void aThousandDigitNumberIs400SayingTheNumberIsTooLong() throws Exception {
    var response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"gpt-4o-mini\",\"max_tokens\":" + "1".repeat(1000) + "0,\"messages\":[]}");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("message"))
        .contains("number").doesNotContain("nesting");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/metrics", "/v1/../metrics", "/v1/%2e%2e/metrics"})
  void metricsAreNotServedOnTheClientPort(String path) throws Exception {
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestGateway.KEY + "\r\n\r\n");
      RawHttp.Response response = raw.readResponse();
      assertEnvelope(response, 404, "unknown_url");
      assertThat(response.body()).doesNotContain("llm_");
    }
    String scrape = Http.get(gateway.metricsUrl(), null).body();
    assertThat(scrape).contains("llm_access_log_dropped_total").doesNotContain("127.0.0.1:");
  }
}
