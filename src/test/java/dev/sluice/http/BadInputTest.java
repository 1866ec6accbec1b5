package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.RawHttp;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed, oversized, unauthorised and forbidden requests: each gets a precise
 * 4xx in the OpenAI error envelope, the upstream never sees it, and the gateway keeps serving afterwards.
 */
class BadInputTest extends GatewayTest {
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final int TWENTY_MIB = 20 * 1024 * 1024;

  HttpClient client;

  @BeforeEach
  void client() {
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  @Test
  void invalidJsonIs400InvalidJson() throws Exception {
    assertRejected(chat("{\"model\": \"gpt-4o-mini\", "), 400, "invalid_json");
  }

  @Test
  void nestingDeeperThan64LevelsIs400() throws Exception {
    String deep = "[".repeat(1000) + "]".repeat(1000);
    JsonObject error = assertRejected(chat("{\"model\":\"gpt-4o-mini\",\"messages\":[],\"x\":" + deep + "}"), 400, "invalid_json");
    assertThat(error.getString("message")).contains("64");
  }

  @Test
  void duplicateKeysAre400NamingTheKey() throws Exception {
    JsonObject error = assertRejected(chat("{\"model\":\"gpt-4o-mini\",\"model\":\"gpt-4o\",\"messages\":[]}"), 400, "invalid_json");
    assertThat(error.getString("message")).contains("model").containsIgnoringCase("duplicate");
  }

  @Test
  void declaredBodyOverMaxBodyIs413BeforeTheBodyIsSent() throws Exception {
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write(head("POST", "/v1/chat/completions", "content-type: application/json\r\ncontent-length: " + TWENTY_MIB + "\r\n"));
      RawHttp.Response response = raw.readResponse();
      assertThat(response).isNotNull();
      assertEnvelope(response.status(), response.body(), 413, "request_too_large");
      assertThat(raw.closedByServer()).isTrue();
    }
    assertUpstreamUntouchedAndServing();
  }

  @Test
  void bodyOverMaxBodyFromAnOrdinaryClientIs413OrAClosedConnection() throws Exception {
    byte[] big = bigChatBody();
    HttpRequest request = authorized("/v1/chat/completions").header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build();
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      assertEnvelope(response.statusCode(), response.body(), 413, "request_too_large");
    } catch (IOException closedWhileSending) {
      // The gateway answers 413 and closes without reading the rest; a client still writing may only see the close.
    }
    assertUpstreamUntouchedAndServing();
  }

  @Test
  void chunkedBodyOverMaxBodyIs413() throws Exception {
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write(head("POST", "/v1/chat/completions", "content-type: application/json\r\ntransfer-encoding: chunked\r\n"));
      byte[] piece = new byte[64 * 1024];
      Arrays.fill(piece, (byte) 'a');
      byte[] chunk = concat(("10000\r\n").getBytes(StandardCharsets.US_ASCII), piece, "\r\n".getBytes(StandardCharsets.US_ASCII));
      try {
        for (int sent = 0; sent < TWENTY_MIB && !raw.responseWaiting(); sent += piece.length) raw.write(chunk);
      } catch (IOException closedWhileSending) {
        // the server answered and closed mid-body; the answer is still readable below
      }
      RawHttp.Response response = raw.readResponse();
      assertThat(response).as("413 response (null = connection closed without one)").isNotNull();
      assertEnvelope(response.status(), response.body(), 413, "request_too_large");
    }
    assertUpstreamUntouchedAndServing();
  }

  @Test
  void headerOf16KiBIs431InTheEnvelope() throws Exception {
    try (RawHttp raw = RawHttp.connect(gateway.port())) {
      raw.write(head("GET", "/v1/models", "x-padding: " + "a".repeat(16 * 1024) + "\r\n"));
      RawHttp.Response response = raw.readResponse();
      assertThat(response).isNotNull();
      assertEnvelope(response.status(), response.body(), 431, "request_header_fields_too_large");
      assertThat(response.header("x-request-id")).startsWith("req_");
    }
    assertUpstreamUntouchedAndServing();
  }

  @Test
  void missingModelIs400WithParamModel() throws Exception {
    JsonObject error = assertRejected(chat("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), 400, null);
    assertThat(error.getString("param")).isEqualTo("model");
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
  }

  @Test
  void messagesThatAreNotAnArrayAre400WithParamMessages() throws Exception {
    JsonObject error = assertRejected(chat("{\"model\":\"gpt-4o-mini\",\"messages\":\"hi\"}"), 400, null);
    assertThat(error.getString("param")).isEqualTo("messages");
  }

  @Test
  void unknownAliasIs404ModelNotFound() throws Exception {
    JsonObject error = assertRejected(chat("{\"model\":\"gpt-9-ultra\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        404, "model_not_found");
    assertThat(error.getString("param")).isEqualTo("model");
    assertThat(error.getString("message")).contains("gpt-9-ultra");
  }

  @ParameterizedTest
  @ValueSource(strings = {"api_base", "base_url", "api_key"})
  void clientChosenUpstreamOrCredentialIs400UnsupportedParameter(String field) throws Exception {
    String body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"" + field
        + "\":\"http://169.254.169.254/latest\"}";
    JsonObject error = assertRejected(chat(body), 400, "unsupported_parameter");
    assertThat(error.getString("param")).isEqualTo(field);
  }

  @Test
  void missingKeyIs401InvalidApiKey() throws Exception {
    HttpResponse<String> response = send(request("/v1/chat/completions").header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(CHAT)));
    assertGenericUnauthorized(assertRejected(response, 401, "invalid_api_key"));
  }

  @Test
  void wrongKeyIs401WithAGenericMessage() throws Exception {
    String wrong = "sk-sluice-wrong-0123456789abcdefghijklmnopqrstuvwxyz";
    HttpResponse<String> response = send(request("/v1/chat/completions").header("authorization", "Bearer " + wrong)
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(CHAT)));
    JsonObject error = assertRejected(response, 401, "invalid_api_key");
    assertGenericUnauthorized(error);
    assertThat(response.body()).doesNotContain(wrong).doesNotContain(TestGateway.digest(wrong).substring(12, 30));
  }

  @ParameterizedTest
  @ValueSource(strings = {"api-key", "x-api-key"})
  void keyInAzureOrAnthropicStyleHeaderIsAccepted(String header) throws Exception {
    HttpResponse<String> response = send(request("/v1/chat/completions").header(header, TestGateway.KEY)
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(CHAT)));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  @Test
  void textPlainBodyIs415() throws Exception {
    HttpResponse<String> response = send(request("/v1/chat/completions").header("authorization", "Bearer " + TestGateway.KEY)
        .header("content-type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(CHAT)));
    assertRejected(response, 415, "unsupported_media_type");
  }

  @Test
  void unknownPathUnderV1Is404InTheEnvelope() throws Exception {
    assertRejected(send(authorized("/v1/completions-v2").GET()), 404, "unknown_url");
  }

  @Test
  void postToUnknownPathUnderV1Is404InTheEnvelope() throws Exception {
    assertRejected(send(authorized("/v1/completions-v2").header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(CHAT))), 404, "unknown_url");
  }

  @Test
  void wrongMethodOnAKnownEndpointIs405InTheEnvelope() throws Exception {
    assertRejected(send(authorized("/v1/chat/completions").GET()), 405, "method_not_allowed");
  }

  @Test
  void unknownPathOutsideTheApiIs404InTheEnvelope() throws Exception {
    assertRejected(send(request("/v2/chat/completions").GET()), 404, "unknown_url");
  }

  @Test
  void tenantWithoutTheAliasGets403ModelNotAllowed() throws Exception {
    HttpResponse<String> response = send(request("/v1/chat/completions").header("authorization", "Bearer " + TestGateway.OTHER_KEY)
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(CHAT)));
    JsonObject error = assertRejected(response, 403, "model_not_allowed");
    assertThat(error.getString("param")).isEqualTo("model");
  }

  @Test
  void saneClientRequestIdIsEchoedAsClientRequestIdNextToOurOwn() throws Exception {
    HttpResponse<String> response = send(authorized("/v1/models").header("x-request-id", "trace-42:span.7_a").GET());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-client-request-id")).hasValue("trace-42:span.7_a");
    assertThat(response.headers().firstValue("x-request-id")).get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .matches("req_[0-9a-f]{24}");
  }

  @Test
  void xClientRequestIdWinsOverXRequestId() throws Exception {
    HttpResponse<String> response = send(authorized("/v1/models").header("x-request-id", "theirs-1")
        .header("x-client-request-id", "mine-2").GET());
    assertThat(response.headers().firstValue("x-client-request-id")).hasValue("mine-2");
    assertThat(response.headers().firstValue("x-request-id")).get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .startsWith("req_");
  }

  @ParameterizedTest
  @ValueSource(strings = {"has spaces in it", "<script>alert(1)</script>", "x"})
  void insaneClientRequestIdIsNeitherEchoedNorUsed(String clientId) throws Exception {
    String sent = clientId.equals("x") ? "x".repeat(300) : clientId;
    HttpResponse<String> response = send(authorized("/v1/models").header("x-request-id", sent).GET());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-request-id")).get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .matches("req_[0-9a-f]{24}");
    assertThat(response.headers().firstValue("x-client-request-id")).isEmpty();
  }

  // --- helpers ---

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path)).timeout(Duration.ofSeconds(20));
  }

  private HttpRequest.Builder authorized(String path) {
    return request(path).header("authorization", "Bearer " + TestGateway.KEY);
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> chat(String body) throws Exception {
    return send(authorized("/v1/chat/completions").header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private static String head(String method, String path, String headers) {
    return method + " " + path + " HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer " + TestGateway.KEY + "\r\n"
        + headers + "\r\n";
  }

  /** Status, code and envelope shape; the upstream saw nothing; a normal request afterwards still succeeds. */
  private JsonObject assertRejected(HttpResponse<String> response, int status, String code) throws Exception {
    JsonObject error = assertEnvelope(response.statusCode(), response.body(), status, code);
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    assertUpstreamUntouchedAndServing();
    return error;
  }

  private static JsonObject assertEnvelope(int actualStatus, String body, int status, String code) {
    assertThat(actualStatus).as("status of %s", body).isEqualTo(status);
    JsonObject json = new JsonObject(body);
    assertThat(json.fieldNames()).containsExactly("error");
    JsonObject error = json.getJsonObject("error");
    assertThat(error.fieldNames()).containsExactlyInAnyOrder("message", "type", "param", "code");
    assertThat(error.getString("message")).isNotBlank();
    assertThat(error.getString("type")).isNotBlank();
    if (code != null) assertThat(error.getString("code")).isEqualTo(code);
    return error;
  }

  private void assertUpstreamUntouchedAndServing() throws Exception {
    assertThat(upstream.requestCount()).as("requests the upstream saw").isZero();
    HttpResponse<String> ok = chat(CHAT);
    assertThat(ok.statusCode()).as("a normal request afterwards: %s", ok.body()).isEqualTo(200);
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  private static void assertGenericUnauthorized(JsonObject error) {
    assertThat(error.getString("param")).isNull();
    assertThat(error.getString("message")).doesNotContainIgnoringCase("hmac").doesNotContainIgnoringCase("digest")
        .doesNotContainIgnoringCase("tenant acme").doesNotContain(TestGateway.PEPPER);
  }

  private static byte[] bigChatBody() {
    String prefix = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"";
    String suffix = "\"}]}";
    byte[] body = new byte[TWENTY_MIB];
    Arrays.fill(body, (byte) 'a');
    System.arraycopy(prefix.getBytes(StandardCharsets.US_ASCII), 0, body, 0, prefix.length());
    System.arraycopy(suffix.getBytes(StandardCharsets.US_ASCII), 0, body, body.length - suffix.length(), suffix.length());
    return body;
  }

  private static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] p : parts) length += p.length;
    byte[] out = new byte[length];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
