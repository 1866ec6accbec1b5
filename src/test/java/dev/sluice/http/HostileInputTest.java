package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.SharedRedis;
import dev.sluice.testing.TestGateway;
import dev.sluice.usage.UsageEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A bounded hostile-input run against the real gateway: a fixed corpus plus a seeded generator over the request
 * schema (types, ranges, huge numbers, truncated and duplicate-key JSON, bad headers). Every answer must be the
 * expected status (never a 5xx) and, when refused, an OpenAI error envelope naming the field; {@code /health/live}
 * is asked between requests and must keep answering; afterwards the tenant's spend in the ledger equals the sum of
 * what its successful requests cost, and refused requests cost nothing.
 *
 * <p>The seed is fixed for CI; {@code -Dsluice.hostile.seed=N} replays another run and
 * {@code -Dsluice.hostile.requests=N} changes how many generated requests are sent (default 300).
 */
class HostileInputTest extends GatewayTest {
  static final long SEED = Long.getLong("sluice.hostile.seed", 20_261_204L);
  static final int GENERATED = Integer.getInteger("sluice.hostile.requests", 300);
  static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  @RegisterExtension
  static final SharedRedis redisServer = new SharedRedis();

  /** One request and what it must get: {@code param} is checked when not null, {@code "-"} means a null param. */
  record Case(String name, String method, String path, Map<String, String> headers, String body, int status, String param) {
    Case {
      headers = new LinkedHashMap<>(headers);
    }
  }

  final List<UsageEvent> events = new CopyOnWriteArrayList<>();

  /** Each test starts its own gateway: none before it. */
  @Override
  protected TestGateway startGateway() {
    return null;
  }

  @BeforeEach
  void start() throws Exception {
    upstream.always(ex -> (ex.request.path().endsWith("/embeddings")
        ? Scripts.floatEmbeddings(List.of(new float[] {0.25f, -0.5f})) : Scripts.chat("Hello from the fake upstream.")).play(ex));
    vertx.eventBus().<UsageEvent>consumer(UsageEvent.ADDRESS, m -> events.add(m.body())).completion().await();
  }

  @ParameterizedTest(name = "redis={0}")
  @ValueSource(booleans = {false, true})
  void everyHostileRequestGetsItsEnvelopeTheProcessStaysLiveAndSpendEqualsWhatSucceeded(boolean redis) throws Exception {
    String extra = (redis ? "redis: { url: \"" + redisServer.url() + "\" }\n" : "")
        + "pricing: { upstream-mini: { input: 1.0, output: 2.0 }, upstream-embed: { input: 0.5 } }";
    String yaml = TestGateway.yaml(upstream.baseUrl(), extra)
        .replace("keys: [ { id: acme-key-1,", "budget: { daily-usd: 50 }\n    keys: [ { id: acme-key-1,")
        .replace("gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ] }",
            "gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ], max-output-tokens: 4096 }");
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));

    List<Case> cases = new ArrayList<>(corpus());
    Random random = new Random(SEED);
    for (int i = 0; i < GENERATED; i++) cases.add(generate(random, i));

    BigDecimal successCost = BigDecimal.ZERO;
    Map<String, Integer> statusOf = new HashMap<>();
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      HttpResponse<String> response = send(c);
      String where = "seed=" + SEED + " case " + i + " (" + c.name() + "): " + clip(c.body()) + " → " + clip(response.body());
      assertThat(response.statusCode()).as(where).isEqualTo(c.status());
      String id = response.headers().firstValue("x-request-id").orElse("");
      if (c.path().startsWith("/v1/")) assertThat(id).as(where).matches("req_[0-9a-f]{24}");
      if (c.status() == 200) {
        statusOf.put(id, 200);
        String cost = response.headers().firstValue("x-sluice-cost-usd").orElse(null);
        if (cost != null) successCost = successCost.add(new BigDecimal(cost));
        else successCost = successCost.add(BigDecimal.valueOf(eventFor(id).costUsd())); // streams: from the event
      } else {
        assertEnvelope(response, c, where);
        statusOf.put(id, c.status());
      }
      if (i % 8 == 7) assertLive(where);
    }
    assertLive("after the run");
    long succeeded = statusOf.values().stream().filter(s -> s == 200).count();
    assertThat(succeeded).as("the generator exercises both sides").isGreaterThan(GENERATED / 10);
    assertThat(statusOf.size() - succeeded).isGreaterThan(GENERATED / 10);

    double expected = successCost.doubleValue();
    double tolerance = 1e-9 * cases.size();
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    Await.until(vertx, Duration.ofSeconds(10), "seed=" + SEED + ": ledger spend equals the successful requests' costs",
        () -> Math.abs(gateway.gateway.ledger().spend("acme", today).await().dayUsd() - expected) < tolerance);
    assertThat(expected).as("some requests succeeded and cost something").isPositive();
    double eventCost = events.stream().filter(e -> "acme".equals(e.tenant())).mapToDouble(UsageEvent::costUsd).sum();
    assertThat(eventCost).as("refused requests cost nothing").isCloseTo(expected, org.assertj.core.data.Offset.offset(tolerance));
    assertThat(events.stream().filter(e -> e.costUsd() > 0).allMatch(e -> statusOf.getOrDefault(e.requestId(), 0) == 200))
        .as("only successful requests were charged").isTrue();
  }

  // --- the fixed corpus ---

  static List<Case> corpus() {
    List<Case> out = new ArrayList<>();
    String chat = "/v1/chat/completions";
    String ok = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    for (String bad : List.of("", "{", "[]", "null", "1", "\"x\"", ok, ok + "}}", ok + "} trailing", "{'a':1}",
        "{\"model\":\"gpt-4o-mini\",\"model\":\"gpt-4o\",\"messages\":[]}", "{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}",
        ok + ",\"max_tokens\":" + "9".repeat(1001) + "}", ok + ",\"temperature\":NaN}", ok + ",\"top_p\":Infinity}",
        ok + ",\"n\":01}", ok + ",\"n\":1.}", "{\"model\":\"gpt-4o-mini\u0000\"}")) {
      out.add(chat("invalid json", bad, 400, "-"));
    }
    out.add(chat("missing model", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 400, "model"));
    out.add(chat("numeric model", "{\"model\":7,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 400, "model"));
    out.add(chat("empty model", "{\"model\":\"\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 400, "model"));
    out.add(chat("unknown model", ok.replace("gpt-4o-mini", "../../admin") + "}", 404, "model"));
    out.add(chat("huge model", ok.replace("gpt-4o-mini", "m".repeat(20_000)) + "}", 404, "model"));
    out.add(chat("missing messages", "{\"model\":\"gpt-4o-mini\"}", 400, "messages"));
    out.add(chat("empty messages", "{\"model\":\"gpt-4o-mini\",\"messages\":[]}", 400, "messages"));
    out.add(chat("number message", "{\"model\":\"gpt-4o-mini\",\"messages\":[1]}", 400, "messages[0]"));
    out.add(chat("role-less message", "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"content\":\"x\"}]}", 400, "messages[0]"));
    out.add(chat("api_base smuggling", ok + ",\"api_base\":\"http://evil\"}", 400, "api_base"));
    out.add(chat("the overflow reproduction", ok + ",\"max_tokens\":4611686019501129728,\"n\":2}", 400, "max_tokens"));
    out.add(chat("the overflow reproduction, streamed", ok + ",\"max_tokens\":4611686019501129728,\"n\":2,\"stream\":true}", 400, "max_tokens"));
    out.add(chat("Long.MAX max_tokens", ok + ",\"max_tokens\":9223372036854775807}", 400, "max_tokens"));
    out.add(chat("max_tokens above the alias", ok + ",\"max_tokens\":4097}", 400, "max_tokens"));
    out.add(chat("string max_tokens", ok + ",\"max_tokens\":\"4\"}", 400, "max_tokens"));
    out.add(chat("1e308 temperature", ok + ",\"temperature\":1e308}", 400, "temperature"));
    out.add(chat("negative zero temperature", ok + ",\"temperature\":-0.0}", 200, null));
    out.add(chat("unicode and escapes", "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"
        + "\"\\u0000\\ud83d\\ude00 \\\"quoted\\\" \\\\ \\n\\r\\t <script>\"}]}", 200, null));
    out.add(new Case("no key", "POST", chat, Map.of("content-type", "application/json"), ok + "}", 401, "-"));
    out.add(new Case("wrong key", "POST", chat, Map.of("content-type", "application/json",
        "authorization", "Bearer sk-wrong-0123456789abcdefghijklmnopqrstuv"), ok + "}", 401, "-"));
    out.add(new Case("other tenant's alias", "POST", chat, Map.of("content-type", "application/json",
        "authorization", "Bearer " + TestGateway.OTHER_KEY), ok + "}", 403, "model"));
    out.add(new Case("form body", "POST", chat, authorized(Map.of("content-type", "application/x-www-form-urlencoded")),
        "model=gpt-4o-mini", 415, "-"));
    out.add(new Case("json with charset", "POST", chat, authorized(Map.of("content-type", "application/json; charset=utf-8")),
        ok + "}", 200, null));
    out.add(new Case("insane client request id", "POST", chat, authorized(Map.of("content-type", "application/json",
        "x-request-id", "<script>" + "x".repeat(300))), ok + "}", 200, null));
    out.add(new Case("GET on a POST endpoint", "GET", chat, authorized(Map.of()), "", 405, "-"));
    out.add(new Case("unknown path", "POST", "/v1/chat/completion", authorized(Map.of("content-type",
        "application/json")), ok + "}", 404, "-"));
    out.add(new Case("models", "GET", "/v1/models", authorized(Map.of()), "", 200, null));
    out.add(embeddings("empty input array", "{\"model\":\"text-embedding-3-small\",\"input\":[]}", 400, "input"));
    out.add(embeddings("2049 inputs", "{\"model\":\"text-embedding-3-small\",\"input\":[" + "\"a\",".repeat(2048) + "\"a\"]}", 400, "input"));
    out.add(embeddings("object input", "{\"model\":\"text-embedding-3-small\",\"input\":{}}", 400, "input"));
    out.add(embeddings("huge dimensions", "{\"model\":\"text-embedding-3-small\",\"input\":\"x\",\"dimensions\":" + "7".repeat(40) + "}",
        400, "dimensions"));
    return out;
  }

  static Map<String, String> authorized(Map<String, String> headers) {
    Map<String, String> out = new LinkedHashMap<>(headers);
    out.put("authorization", "Bearer " + TestGateway.KEY);
    return out;
  }

  static Case chat(String name, String body, int status, String param) {
    return new Case(name, "POST", "/v1/chat/completions", authorized(Map.of("content-type", "application/json")), body, status, param);
  }

  static Case embeddings(String name, String body, int status, String param) {
    return new Case(name, "POST", "/v1/embeddings", authorized(Map.of("content-type", "application/json")), body, status, param);
  }

  // --- the seeded generator: valid requests with at most one field made hostile, or broken JSON ---

  /** A field of the schema: how to draw a valid value and a hostile one (its expected param, value). */
  record Field(String name, Function<Random, Object> valid, Function<Random, Object[]> hostile) {}

  static final List<Field> CHAT_FIELDS = List.of(
      new Field("max_tokens", r -> 1 + r.nextInt(4096), r -> hostileInteger(r, "max_tokens", 4096)),
      new Field("max_completion_tokens", r -> 1 + r.nextInt(4096), r -> hostileInteger(r, "max_completion_tokens", 4096)),
      new Field("n", r -> 1 + r.nextInt(4), r -> hostileInteger(r, "n", 128)),
      new Field("temperature", r -> r.nextInt(3) == 0 ? r.nextInt(3) : r.nextDouble() * 2, r -> hostileNumber(r, "temperature", 2)),
      new Field("top_p", r -> r.nextBoolean() ? 1 : r.nextDouble(), r -> hostileNumber(r, "top_p", 1)),
      new Field("tools", HostileInputTest::validTools, HostileInputTest::hostileTools),
      new Field("tool_choice", r -> pick(r, "none", "auto", "required",
          new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "f"))),
          r -> new Object[] {"tool_choice", pick(r, 1, true, new JsonArray(), "always", "", "AUTO", 2.5)}),
      new Field("stream", r -> r.nextBoolean(), r -> new Object[] {"stream", pick(r, "true", 1, new JsonObject(), new JsonArray())}),
      new Field("stream_options", r -> new JsonObject().put("include_usage", r.nextBoolean()),
          r -> new Object[] {"stream_options", pick(r, "x", 1, new JsonArray().add(true))}),
      new Field("user", r -> randomText(r, 40), r -> null),
      new Field("seed", r -> r.nextLong(), r -> null),
      new Field("metadata", r -> new JsonObject().put("k", randomText(r, 10)), r -> null));

  static final List<Field> EMBEDDING_FIELDS = List.of(
      new Field("dimensions", r -> 1 + r.nextInt(3072), r -> hostileInteger(r, "dimensions", Integer.MAX_VALUE)),
      new Field("encoding_format", r -> pick(r, "float", "base64"), r -> new Object[] {"encoding_format", pick(r, "hex", 1, "", "FLOAT")}),
      new Field("input", HostileInputTest::validInput, HostileInputTest::hostileInput));

  Case generate(Random r, int index) {
    boolean embeddings = r.nextInt(5) == 0;
    JsonObject body = embeddings
        ? new JsonObject().put("model", "text-embedding-3-small").put("input", randomText(r, 30))
        : new JsonObject().put("model", "gpt-4o-mini").put("messages", new JsonArray()
            .add(new JsonObject().put("role", "user").put("content", randomText(r, 60))));
    List<Field> fields = new ArrayList<>(embeddings ? EMBEDDING_FIELDS : CHAT_FIELDS);
    java.util.Collections.shuffle(fields, r);
    int validCount = r.nextInt(4);
    for (int i = 0; i < validCount && i < fields.size(); i++) body.put(fields.get(i).name(), fields.get(i).valid().apply(r));
    String path = embeddings ? "/v1/embeddings" : "/v1/chat/completions";
    int shape = r.nextInt(10);
    if (shape == 0) { // a strict prefix of a compact JSON object is never a whole one
      String text = body.encode();
      return new Case("truncated #" + index, "POST", path, authorized(Map.of("content-type", "application/json")),
          text.substring(0, 1 + r.nextInt(text.length() - 1)), 400, "-");
    }
    if (shape == 1) {
      String text = body.encode();
      return new Case("duplicate key #" + index, "POST", path, authorized(Map.of("content-type", "application/json")),
          "{\"model\":\"gpt-4o\"," + text.substring(1), 400, "-");
    }
    if (shape < 6) { // one hostile field, on one not already set
      for (int i = validCount; i < fields.size(); i++) {
        Object[] hostile = fields.get(i).hostile().apply(r);
        if (hostile == null) continue;
        body.put(fields.get(i).name(), hostile[1]);
        return new Case("hostile " + fields.get(i).name() + " #" + index, "POST", path,
            authorized(Map.of("content-type", "application/json")), body.encode(), 400, (String) hostile[0]);
      }
    }
    return new Case("valid #" + index, "POST", path, authorized(Map.of("content-type", "application/json")), body.encode(), 200, null);
  }

  /** Wrong types, decimals, zero, negatives, and numbers far beyond int and long. */
  static Object[] hostileInteger(Random r, String field, long max) {
    Object value = switch (r.nextInt(10)) {
      case 0 -> String.valueOf(1 + r.nextInt(100));
      case 1 -> r.nextBoolean();
      case 2 -> new JsonArray().add(1);
      case 3 -> (1 + r.nextInt(100)) + 0.5;
      case 4 -> 1e308;
      case 5 -> 0;
      case 6 -> -1 - r.nextInt(Integer.MAX_VALUE);
      case 7 -> max + 1 + r.nextInt(1000);
      case 8 -> Long.MAX_VALUE - r.nextInt(1000);
      default -> new BigInteger(60 + r.nextInt(3000), r); // up to ~900 digits
    };
    return new Object[] {field, value};
  }

  static Object[] hostileNumber(Random r, String field, double max) {
    Object value = switch (r.nextInt(6)) {
      case 0 -> "0.5";
      case 1 -> r.nextBoolean();
      case 2 -> new JsonObject();
      case 3 -> -0.001 - r.nextDouble() * 1e6;
      case 4 -> max + 0.001 + r.nextDouble() * 1e9;
      default -> new BigInteger(80 + r.nextInt(2000), r);
    };
    return new Object[] {field, value};
  }

  static Object validTools(Random r) {
    JsonArray tools = new JsonArray();
    for (int i = r.nextInt(3); i > 0; i--) {
      tools.add(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "f" + i)
          .put("parameters", new JsonObject().put("type", "object"))));
    }
    return tools;
  }

  static Object[] hostileTools(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> new Object[] {"tools", "search"};
      case 1 -> new Object[] {"tools", new JsonObject().put("type", "function")};
      case 2 -> new Object[] {"tools[0]", new JsonArray().add(7)};
      default -> new Object[] {"tools[1]", new JsonArray().add(new JsonObject().put("type", "function")).add("x")};
    };
  }

  static Object validInput(Random r) {
    return switch (r.nextInt(3)) {
      case 0 -> randomText(r, 30);
      case 1 -> new JsonArray().add(randomText(r, 10)).add(randomText(r, 10));
      default -> new JsonArray().add(new JsonArray().add(1).add(2 + r.nextInt(1000)));
    };
  }

  static Object[] hostileInput(Random r) {
    return switch (r.nextInt(5)) {
      case 0 -> new Object[] {"input", 42};
      case 1 -> new Object[] {"input", new JsonArray()};
      case 2 -> new Object[] {"input[0]", new JsonArray().add(new JsonObject())};
      case 3 -> new Object[] {"input[1]", new JsonArray().add("a").add(new JsonArray())};
      default -> new Object[] {"input", null}; // present but null: missing
    };
  }

  @SafeVarargs
  static <T> T pick(Random r, T... options) {
    return options[r.nextInt(options.length)];
  }

  /** Text with the characters that break naive handling: quotes, backslashes, controls, surrogate pairs, RTL. */
  static String randomText(Random r, int max) {
    String alphabet = "abc xyz 019 \"\\/\n\t\u0000\u0007{}[]:,<>&'é漢字\u202e";
    StringBuilder sb = new StringBuilder();
    for (int i = r.nextInt(max) + 1; i > 0; i--) {
      if (r.nextInt(20) == 0) sb.append("\ud83d\ude00");
      else sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  // --- sending and checking ---

  HttpResponse<String> send(Case c) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + c.path()))
        .timeout(Duration.ofSeconds(20));
    c.headers().forEach(request::header);
    if (c.method().equals("GET")) request.GET();
    else request.method(c.method(), HttpRequest.BodyPublishers.ofString(c.body()));
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static void assertEnvelope(HttpResponse<String> response, Case c, String where) {
    assertThat(response.headers().firstValue("content-type").orElse("")).as(where).startsWith("application/json");
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error).as(where).isNotNull();
    assertThat(error.getValue("message")).as(where).isInstanceOf(String.class);
    assertThat(error.getValue("type")).as(where).isInstanceOf(String.class);
    assertThat(error.containsKey("param") && error.containsKey("code")).as(where).isTrue();
    if ("-".equals(c.param())) assertThat(error.getValue("param")).as(where).isNull();
    else if (c.param() != null) assertThat(error.getValue("param")).as(where).isEqualTo(c.param());
  }

  void assertLive(String where) throws Exception {
    HttpResponse<String> live = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/health/live"))
        .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(live.statusCode()).as("live " + where).isEqualTo(200);
    assertThat(new JsonObject(live.body()).getString("status")).isEqualTo("ok");
  }

  UsageEvent eventFor(String requestId) throws Exception {
    Await.until(vertx, Duration.ofSeconds(20), "usage event for " + requestId,
        () -> events.stream().anyMatch(e -> e.requestId().equals(requestId)));
    return events.stream().filter(e -> e.requestId().equals(requestId)).findFirst().orElseThrow();
  }

  static String clip(String s) {
    return s == null ? "null" : s.length() <= 300 ? s : s.substring(0, 300) + "…";
  }
}
