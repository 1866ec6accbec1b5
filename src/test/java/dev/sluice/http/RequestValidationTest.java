package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.Http;
import dev.sluice.testing.ManualClock;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The request fields that size a reservation or a cost are type- and range-checked before admission: a wrong one is
 * a 400 {@code invalid_request_error} naming the field, in OpenAI's wording, and the upstream never sees it.
 */
class RequestValidationTest extends GatewayTest {
  static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

  static String chat(String fields) {
    return "{\"model\":\"gpt-4o-mini\"," + MESSAGES + (fields.isEmpty() ? "" : "," + fields) + "}";
  }

  HttpResponse<String> postChat(String body) throws Exception {
    return Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
  }

  static JsonObject error(HttpResponse<String> response) {
    return new JsonObject(response.body()).getJsonObject("error");
  }

  JsonObject assertRejected(HttpResponse<String> response, String param, String code) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    JsonObject error = error(response);
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    assertThat(error.getString("param")).isEqualTo(param);
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(upstream.requestCount()).as("the upstream never sees a refused request").isZero();
    return error;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "\"max_tokens\":\"100\"                   | max_tokens            | invalid_type",
      "\"max_tokens\":100.0                     | max_tokens            | invalid_type",
      "\"max_tokens\":1.5                       | max_tokens            | invalid_type",
      "\"max_tokens\":true                      | max_tokens            | invalid_type",
      "\"max_tokens\":[100]                     | max_tokens            | invalid_type",
      "\"max_tokens\":1e400                     | max_tokens            | invalid_type",
      "\"max_tokens\":0                         | max_tokens            | invalid_value",
      "\"max_tokens\":-1                        | max_tokens            | invalid_value",
      "\"max_tokens\":4611686019501129728,\"n\":2 | max_tokens          | invalid_value",
      "\"max_tokens\":9223372036854775808       | max_tokens            | invalid_value",
      "\"max_completion_tokens\":\"5\"          | max_completion_tokens | invalid_type",
      "\"max_completion_tokens\":0              | max_completion_tokens | invalid_value",
      "\"n\":0                                  | n                     | invalid_value",
      "\"n\":129                                | n                     | invalid_value",
      "\"n\":\"2\"                              | n                     | invalid_type",
      "\"n\":2.5                                | n                     | invalid_type",
      "\"n\":100000000000000000000000           | n                     | invalid_value",
      "\"temperature\":\"hot\"                  | temperature           | invalid_type",
      "\"temperature\":2.01                     | temperature           | invalid_value",
      "\"temperature\":-0.1                     | temperature           | invalid_value",
      "\"temperature\":1e400                    | temperature           | invalid_value",
      "\"temperature\":false                    | temperature           | invalid_type",
      "\"top_p\":1.5                            | top_p                 | invalid_value",
      "\"top_p\":-1                             | top_p                 | invalid_value",
      "\"top_p\":\"all\"                        | top_p                 | invalid_type",
      "\"tools\":{}                             | tools                 | invalid_type",
      "\"tools\":\"search\"                     | tools                 | invalid_type",
      "\"tools\":[{\"type\":\"function\"},\"x\"]  | tools[1]            | invalid_type",
      "\"tool_choice\":5                        | tool_choice           | invalid_type",
      "\"tool_choice\":[]                       | tool_choice           | invalid_type",
      "\"tool_choice\":\"sometimes\"            | tool_choice           | invalid_value",
  })
  void wrongTypeOrRangeIs400NamingTheField(String fields, String param, String code) throws Exception {
    assertRejected(postChat(chat(fields)), param, code);
  }

  @Test
  void messagesUseOpenAisWording() throws Exception {
    assertThat(assertRejected(postChat(chat("\"max_tokens\":\"100\"")), "max_tokens", "invalid_type").getString("message"))
        .isEqualTo("Invalid type for 'max_tokens': expected an integer, but got a string instead.");
    assertThat(assertRejected(postChat(chat("\"n\":0")), "n", "invalid_value").getString("message"))
        .isEqualTo("Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.");
    assertThat(assertRejected(postChat(chat("\"temperature\":2.5")), "temperature", "invalid_value").getString("message"))
        .isEqualTo("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.");
  }

  @Test
  void aThousandDigitNumberIsNamedAsSuchAndItsEchoIsClipped() throws Exception {
    String digits = "9".repeat(999);
    JsonObject error = assertRejected(postChat(chat("\"max_tokens\":" + digits)), "max_tokens", "invalid_value");
    assertThat(error.getString("message")).hasSizeLessThan(200);
    HttpResponse<String> tooLong = postChat(chat("\"max_tokens\":" + "9".repeat(1001)));
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(error(tooLong).getString("code")).isEqualTo("invalid_json");
    assertThat(error(tooLong).getString("message")).contains("digits").doesNotContain("nesting");
  }

  @Test
  void maxTokensAboveTheAliasLimitIs400LikeOpenAi() throws Exception {
    gateway.close();
    gateway = TestGateway.start(vertx, ConfigLoader.parse(TestGateway.yaml(upstream.baseUrl(), "").replace(
        "gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ] }",
        "gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ], max-output-tokens: 4096 }"), Map.of()));
    JsonObject error = assertRejected(postChat(chat("\"max_tokens\":4097")), "max_tokens", "invalid_value");
    assertThat(error.getString("message"))
        .isEqualTo("max_tokens is too large: 4097. This model supports at most 4096 completion tokens, whereas you provided 4097.");
    // the larger of the two fields counts: a provider may honour either
    assertRejected(postChat(chat("\"max_completion_tokens\":10,\"max_tokens\":5000")), "max_tokens", "invalid_value");
    assertRejected(postChat(chat("\"max_completion_tokens\":5000,\"max_tokens\":10")), "max_completion_tokens", "invalid_value");
  }

  @Test
  void withoutAnAliasLimitTheContextWindowBoundsMaxTokens() throws Exception {
    // no max-output-tokens on the alias: 4096 is only what a request without max_tokens reserves
    assertThat(postChat(chat("\"max_tokens\":16384")).statusCode()).isEqualTo(200);
    HttpResponse<String> beyond = postChat(chat("\"max_tokens\":128001"));
    assertThat(beyond.statusCode()).isEqualTo(400);
    assertThat(error(beyond).getString("param")).isEqualTo("max_tokens");
    assertThat(upstream.requestCount()).as("only the request within the window went upstream").isEqualTo(1);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "\"max_tokens\":4096",
      "\"max_tokens\":null,\"n\":null,\"temperature\":null,\"top_p\":null,\"tools\":null,\"tool_choice\":null",
      "\"max_completion_tokens\":1,\"n\":128",
      "\"temperature\":0,\"top_p\":1",
      "\"temperature\":2,\"top_p\":0.5",
      "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}],\"tool_choice\":\"required\"",
      "\"tools\":[],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}}",
      "\"tool_choice\":\"none\"",
  })
  void validValuesAreForwardedUntouched(String fields) throws Exception {
    HttpResponse<String> response = postChat(chat(fields));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonObject sent = new JsonObject(chat(fields));
    JsonObject received = upstream.lastRequest().body();
    for (String field : sent.fieldNames()) {
      if (!field.equals("model")) assertThat(received.getValue(field)).as(field).isEqualTo(sent.getValue(field));
    }
  }

  @Test
  void theContextWindowBoundsEachChoiceNotTheirSum() throws Exception {
    // 128 choices × 4096 (the alias default) exceed the 128,000-token window together, not one by one
    assertThat(postChat(chat("\"n\":128")).statusCode()).isEqualTo(200);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "\"input\":\"x\",\"dimensions\":\"256\" | dimensions | invalid_type",
      "\"input\":\"x\",\"dimensions\":0       | dimensions | invalid_value",
      "\"input\":\"x\",\"dimensions\":1e3     | dimensions | invalid_type",
      "\"input\":[]                           | input      | invalid_request_error",
      "\"input\":[{\"text\":\"x\"}]           | input[0]   | invalid_request_error",
      "\"input\":[\"a\",true]                 | input[1]   | invalid_request_error",
      "\"input\":[[]]                         | input[0]   | invalid_request_error",
      "\"input\":[[1,\"2\"]]                  | input[0]   | invalid_request_error",
  })
  void embeddingFieldsAreChecked(String fields, String param, String code) throws Exception {
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/embeddings", TestGateway.KEY,
        "{\"model\":\"text-embedding-3-small\"," + fields + "}");
    assertRejected(response, param, code);
  }

  @Test
  void embeddingInputsAreBoundedTo2048() throws Exception {
    String inputs = "\"x\",".repeat(2049);
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/embeddings", TestGateway.KEY,
        "{\"model\":\"text-embedding-3-small\",\"input\":[" + inputs.substring(0, inputs.length() - 1) + "]}");
    assertThat(assertRejected(response, "input", "invalid_request_error").getString("message")).contains("2048");
    HttpResponse<String> tokens = Http.post(gateway.baseUrl() + "/embeddings", TestGateway.KEY,
        "{\"model\":\"text-embedding-3-small\",\"input\":[[1,2,3],[4]],\"dimensions\":256}");
    assertThat(tokens.statusCode()).isEqualTo(200);
  }

  @Test
  void theReservationIsMaxTokensTimesNAndAStringCannotShrinkIt() throws Exception {
    gateway.close();
    ManualClock clock = new ManualClock(1_800_000_000_000L); // no refill between the two requests
    gateway = TestGateway.start(vertx, ConfigLoader.parse(TestGateway.yaml(upstream.baseUrl(),
        "limits: { defaults: { tokens-per-minute: 100000 } }"), Map.of()), clock);
    long one = remainingTokens(postChat(chat("\"max_tokens\":100")));
    // the first settled at the fake's 12 tokens; the second reserves its prompt (same as the first) + 3 × 100
    long three = remainingTokens(postChat(chat("\"max_tokens\":100,\"n\":3")));
    assertThat(one - three).isEqualTo(12 + 200);
    long defaults = remainingTokens(postChat(chat("\"n\":2")));
    assertThat(three - defaults).as("no max_tokens: the alias's 4096 per choice").isEqualTo(12 + 2 * 4096 - 300);
    assertThat(postChat(chat("\"max_tokens\":\"1\",\"n\":2")).statusCode()).isEqualTo(400);
  }

  static long remainingTokens(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return Long.parseLong(response.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
  }
}
