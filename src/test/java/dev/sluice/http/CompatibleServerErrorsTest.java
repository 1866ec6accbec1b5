package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** vLLM, Ollama and other OpenAI-compatible servers' own error shapes reach clients as OpenAI error envelopes. */
class CompatibleServerErrorsTest extends GatewayTest {
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "vLLM (FastAPI detail) | 422 | {\"detail\":\"max_tokens must be at least 1, got 0.\"} | max_tokens must be at least 1, got 0.",
      "vLLM (flat object)    | 400 | {\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens.\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400} | This model's maximum context length is 4096 tokens.",
      "Ollama                | 404 | {\"error\":\"model 'llama3:70b' not found, try pulling it first\"} | model 'llama3:70b' not found, try pulling it first",
      "OpenAI envelope       | 400 | {\"error\":{\"message\":\"Invalid 'temperature'.\",\"type\":\"invalid_request_error\",\"param\":\"temperature\",\"code\":\"invalid_value\"}} | Invalid 'temperature'."})
  void clientErrorsArePassedThroughInTheOpenAiEnvelope(String server, int status, String body, String message) throws Exception {
    upstream.next(Scripts.raw(status, "application/json", body));
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("x-should-retry")).hasValue("false");
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("message")).isEqualTo(message);
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    assertThat(error.getValue("code")).isIn(null, "invalid_value");
    assertThat(error.fieldNames()).contains("message", "type", "param", "code");
  }
}
