package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Gate;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.Http;
import dev.sluice.testing.ManualClock;
import dev.sluice.testing.SharedRedis;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The response cache through HTTP and the official SDK, in memory and in Redis. */
class CacheHttpTest extends GatewayTest {
  @RegisterExtension
  static final SharedRedis redisServer = new SharedRedis();
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"cache me\"}]}";
  final ManualClock clock = new ManualClock(1_800_000_000_000L);
  final ExecutorService pool = Executors.newFixedThreadPool(24);

  /** Each test starts its own gateway: none before it. */
  @Override
  protected TestGateway startGateway() {
    return null;
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /** Both tenants opted in; {@code extra} YAML appended (e.g. a Redis URL). */
  TestGateway gateway(String extra) {
    gateway = replica(extra);
    return gateway;
  }

  /** Another gateway with the same config (a second replica when {@code extra} names a shared Redis). */
  TestGateway replica(String extra) {
    String yaml = TestGateway.yaml(upstream.baseUrl(), extra)
        .replace("max-connections: 8", "max-connections: 64").replace("max-wait-queue: 4", "max-wait-queue: 64")
        .replace("    keys: [ { id: acme-key-1,", "    cache: { enabled: true, ttl: 1h }\n    keys: [ { id: acme-key-1,")
        .replace("    keys: [ { id: beta-key-1,", "    cache: { enabled: true, ttl: 1h }\n    keys: [ { id: beta-key-1,");
    return TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), clock);
  }

  String redisYaml() {
    return "redis: { url: \"" + redisServer.url() + "\" }";
  }

  HttpResponse<String> chat(String body) throws Exception {
    return Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, body);
  }

  HttpResponse<String> chat(String body, String header, String value) throws Exception {
    java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(gateway.baseUrl() + "/chat/completions"))
        .header("content-type", "application/json").header("authorization", "Bearer " + TestGateway.KEY).header(header, value)
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
    return java.net.http.HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }

  static String cacheHeader(HttpResponse<?> response) {
    return response.headers().firstValue("x-sluice-cache").orElse("");
  }

  static String content(HttpResponse<String> response) {
    return new JsonObject(response.body()).getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  static String streamedText(HttpResponse<String> response) {
    return response.body().lines().filter(l -> l.startsWith("data: {")).map(l -> new JsonObject(l.substring(6)))
        .filter(c -> !c.getJsonArray("choices").isEmpty())
        .map(c -> c.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content", ""))
        .collect(Collectors.joining());
  }

  @Test
  void secondIdenticalRequestIsAHitWithTheSameBodyAndUsage() throws Exception {
    gateway("");
    HttpResponse<String> miss = chat(CHAT);
    HttpResponse<String> hit = chat(CHAT);
    assertThat(cacheHeader(miss)).isEqualTo("MISS");
    assertThat(cacheHeader(hit)).isEqualTo("HIT");
    assertThat(content(hit)).isEqualTo(content(miss));
    assertThat(new JsonObject(hit.body()).getJsonObject("usage")).isEqualTo(new JsonObject(miss.body()).getJsonObject("usage"));
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  @Test
  void redisBackedCacheSharesEntriesAndStreamsFromNonStreamEntries() throws Exception {
    gateway(redisYaml());
    assertThat(cacheHeader(chat(CHAT))).isEqualTo("MISS");
    HttpResponse<String> streamHit = chat(CHAT.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true"));
    assertThat(cacheHeader(streamHit)).isEqualTo("HIT");
    assertThat(streamHit.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
    assertThat(streamedText(streamHit)).isEqualTo("Hello from the fake upstream.");
    assertThat(streamHit.body()).endsWith("data: [DONE]\n\n");
    assertThat(redisServer.command("KEYS", "sluice:cache:v1:{t:acme}:*")).contains("sluice:cache:v1:{t:acme}:");
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  @Test
  void streamedMissIsStoredAndServedToTheSdkAsJsonAndAsStream() throws Exception {
    gateway("");
    OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl()).apiKey(TestGateway.KEY).maxRetries(0).build();
    ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(ChatModel.of("gpt-4o-mini"))
        .temperature(0.0).addUserMessage("stream me").build();
    String first;
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
      first = stream.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse("")).collect(Collectors.joining());
    }
    ChatCompletion json = client.chat().completions().create(params);
    String replayed;
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
      replayed = stream.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse("")).collect(Collectors.joining());
    }
    assertThat(first).isEqualTo("Hello from the fake upstream.");
    assertThat(json.choices().get(0).message().content()).hasValue(first);
    assertThat(replayed).isEqualTo(first);
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  @Test
  void twentyConcurrentColdRequestsMakeOneUpstreamCall() throws Exception {
    gateway("");
    // the leader's answer is held until all 20 are inside the gateway: each one is a miss while the call is running
    Gate gate = new Gate();
    upstream.always(gate.holding(Scripts.chat("Coalesced answer.")));
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      boolean stream = i % 4 == 0;
      String body = stream ? CHAT.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true") : CHAT;
      calls.add(chatAsync(gateway, body));
    }
    Await.until(vertx, Duration.ofSeconds(20), "20 requests in flight, one held upstream",
        () -> gateway.gateway.inFlight() == 20 && gate.held() == 1);
    gate.open();
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < calls.size(); i++) {
      HttpResponse<String> r = calls.get(i).get();
      assertThat(r.statusCode()).isEqualTo(200);
      answers.add(i % 4 == 0 ? streamedText(r) : content(r));
    }
    assertThat(answers).containsOnly("Coalesced answer.");
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  CompletableFuture<HttpResponse<String>> chatAsync(TestGateway target, String body) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return Http.post(target.baseUrl() + "/chat/completions", TestGateway.KEY, body);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, pool);
  }

  @Test
  void twoReplicasSharingRedisMakeOneUpstreamCallForConcurrentIdenticalMisses() throws Exception {
    gateway(redisYaml());
    try (TestGateway other = replica(redisYaml())) {
      Gate gate = new Gate();
      upstream.always(gate.holding(Scripts.chat("Coalesced answer.")));
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 10; i++) calls.add(chatAsync(i % 2 == 0 ? gateway : other, CHAT));
      Await.until(vertx, Duration.ofSeconds(20), "10 requests in flight on the two replicas, one held upstream",
          () -> gateway.gateway.inFlight() + other.gateway.inFlight() == 10 && gate.held() == 1);
      gate.open();
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        HttpResponse<String> r = call.get();
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(content(r)).isEqualTo("Coalesced answer.");
      }
      assertThat(upstream.requestCount()).as("one call for the whole fleet").isEqualTo(1);
      Await.until(vertx, Duration.ofSeconds(20), "the fleet lock is released",
          () -> !redisServer.command("KEYS", "sluice:flight:*").contains("sluice:flight"));
    }
  }

  @Test
  void whenTheFleetLeaderFailsTheWaitingReplicaGoesUpstreamItself() throws Exception {
    gateway(redisYaml());
    try (TestGateway other = replica(redisYaml())) {
      Gate gate = new Gate();
      upstream.next(gate.holding(Scripts.error(500, "server_error", null, "boom")));
      upstream.always(Scripts.chat("Second try."));
      CompletableFuture<HttpResponse<String>> leader = chatAsync(gateway, CHAT);
      Await.until(vertx, Duration.ofSeconds(20), "the leader holds the fleet lock",
          () -> redisServer.command("KEYS", "sluice:flight:*").contains("sluice:flight:v1:{t:acme}:"));
      CompletableFuture<HttpResponse<String>> waiting = chatAsync(other, CHAT);
      Await.until(vertx, Duration.ofSeconds(20), "the follower in flight", () -> other.gateway.inFlight() == 1);
      assertThat(upstream.requestCount()).as("the follower waits for the leader").isEqualTo(1);
      gate.open();
      HttpResponse<String> follower = waiting.get();
      assertThat(leader.get().statusCode()).isGreaterThanOrEqualTo(500);
      assertThat(follower.statusCode()).isEqualTo(200);
      assertThat(content(follower)).isEqualTo("Second try.");
      assertThat(upstream.requestCount()).isEqualTo(2);
    }
  }

  @Test
  void aNoStoreMissDoesNotMakeOtherReplicasWaitForIt() throws Exception {
    gateway(redisYaml());
    Gate gate = new Gate();
    upstream.always(gate.holding(Scripts.chat("Not stored.")));
    CompletableFuture<HttpResponse<String>> noStore = CompletableFuture.supplyAsync(() -> {
      try {
        return chat(CHAT, "cache-control", "no-store");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, pool);
    Await.until(vertx, Duration.ofSeconds(20), "the no-store request reached the provider", () -> upstream.requestCount() == 1);
    assertThat(redisServer.command("KEYS", "sluice:flight:*")).as("no fleet lock for an answer that will not be stored")
        .doesNotContain("sluice:flight");
    gate.open();
    assertThat(noStore.get().statusCode()).isEqualTo(200);
  }

  @Test
  void tenantsNeverShareEntries() throws Exception {
    gateway("");
    upstream.always(Scripts.floatEmbeddings(List.of(new float[] {0.5f, 0.25f})));
    String body = "{\"model\":\"text-embedding-3-small\",\"input\":\"same text\"}";
    HttpResponse<String> acme = Http.post(gateway.baseUrl() + "/embeddings", TestGateway.KEY, body);
    HttpResponse<String> beta = Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY, body);
    assertThat(cacheHeader(acme)).isEqualTo("MISS");
    assertThat(cacheHeader(beta)).isEqualTo("MISS");
    assertThat(cacheHeader(Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY, body))).isEqualTo("HIT");
    assertThat(upstream.requestCount()).isEqualTo(2);
  }

  @Test
  void changedParametersMissAndFieldOrderDoesNot() throws Exception {
    gateway("");
    chat(CHAT);
    assertThat(cacheHeader(chat("{\"messages\":[{\"content\":\"cache me\",\"role\":\"user\"}],\"temperature\":0.0,\"model\":\"gpt-4o-mini\"}")))
        .isEqualTo("HIT");
    assertThat(cacheHeader(chat(CHAT.replace("\"temperature\":0", "\"temperature\":0,\"max_tokens\":50")))).isEqualTo("MISS");
    assertThat(cacheHeader(chat(CHAT.replace("\"temperature\":0", "\"temperature\":0,\"seed\":7")))).isEqualTo("MISS");
    assertThat(upstream.requestCount()).isEqualTo(3);
  }

  @Test
  void failuresTruncationsAndNonDeterministicRequestsAreNotStored() throws Exception {
    gateway("");
    upstream.next(Scripts.error(500, "server_error", null, "boom"));
    assertThat(chat(CHAT).statusCode()).isEqualTo(503);
    upstream.next(ex -> Scripts.json(200, Scripts.completion(ex.model(), "cut", "length")).play(ex));
    assertThat(chat(CHAT).statusCode()).isEqualTo(200);
    String stream = CHAT.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true");
    upstream.next(ex -> Scripts.frames(Scripts.events(ex, List.of("partial "), "stop", false), 0, true).play(ex));
    try (dev.sluice.testing.RawClient client = dev.sluice.testing.RawClient.post(gateway.port(), "/v1/chat/completions",
        TestGateway.KEY, stream)) {
      assertThat(client.remainingBody()).contains("stream_interrupted"); // then the connection closes mid-body
    }
    assertThat(cacheHeader(chat(CHAT))).as("nothing stored so far").isEqualTo("MISS");
    assertThat(cacheHeader(chat(CHAT.replace("\"temperature\":0", "\"temperature\":0.7")))).isEqualTo("BYPASS");
    assertThat(upstream.requestCount()).isEqualTo(5);
  }

  @Test
  void controlsRefreshNoStoreMaxAgeAndTheCacheObjectNeverReachesTheProvider() throws Exception {
    gateway("");
    assertThat(cacheHeader(chat(CHAT, "cache-control", "no-store"))).isEqualTo("MISS");
    assertThat(cacheHeader(chat(CHAT))).as("no-store wrote nothing").isEqualTo("MISS");
    assertThat(cacheHeader(chat(CHAT, "cache-control", "no-cache"))).isEqualTo("REFRESH");
    assertThat(cacheHeader(chat(CHAT))).isEqualTo("HIT");
    clock.advanceMillis(60_000);
    assertThat(cacheHeader(chat(CHAT, "cache-control", "max-age=30"))).as("entry is 60 s old").isEqualTo("MISS");
    assertThat(cacheHeader(chat(CHAT, "cache-control", "max-age=30"))).isEqualTo("HIT");
    String forced = "{\"model\":\"gpt-4o-mini\",\"temperature\":1,\"cache\":{\"namespace\":\"n1\"},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    assertThat(cacheHeader(chat(forced))).isEqualTo("MISS");
    assertThat(upstream.lastRequest().body().containsKey("cache")).isFalse();
    assertThat(cacheHeader(chat(forced))).isEqualTo("HIT");
    assertThat(upstream.requestCount()).isEqualTo(5);
  }

  @Test
  void redisDownMeansBypassAndNoWait() throws Exception {
    gateway("redis: { url: \"redis://127.0.0.1:1\", command-timeout: 100ms }");
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> response = chat(CHAT);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(cacheHeader(response)).isEqualTo("BYPASS");
    }
    assertThat(upstream.requestCount()).isEqualTo(3);
  }

  @Test
  void corruptForeignOrOldEntriesAreMissesAndDeleted() throws Exception {
    gateway(redisYaml());
    chat(CHAT);
    String key = redisServer.command("KEYS", "sluice:cache:v1:{t:acme}:*").lines()
        .filter(l -> l.startsWith("sluice:")).findFirst().orElseThrow();
    for (String bad : List.of("not json", "{\"v\":1,\"tenant\":\"beta\",\"endpoint\":\"chat\",\"alias\":\"gpt-4o-mini\",\"created\":1,\"sha\":\"x\",\"body\":{}}",
        "{\"v\":0,\"tenant\":\"acme\"}")) {
      redisServer.command("SET", key, bad);
      assertThat(cacheHeader(chat(CHAT))).as(bad).isEqualTo("MISS");
      // the fresh entry is written after the response: wait until it is there (and valid) again
      Await.until(vertx, java.time.Duration.ofSeconds(20), "entry rewritten", () -> {
        try {
          return redisServer.command("GET", key).contains("\"sha\"");
        } catch (java.io.IOException e) {
          return false;
        }
      });
      assertThat(cacheHeader(chat(CHAT))).as("rewritten after " + bad).isEqualTo("HIT");
    }
    assertThat(upstream.requestCount()).isEqualTo(4);
  }

  @Test
  void hitsCostNoTokens() throws Exception {
    gateway("limits: { defaults: { tokens-per-minute: 100000 } }");
    chat(CHAT);
    long before = Long.parseLong(chat(CHAT).headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
    HttpResponse<String> third = chat(CHAT);
    assertThat(cacheHeader(third)).isEqualTo("HIT");
    // the hit's reservation was refunded in full: the next reservation leaves exactly the same remainder
    assertThat(Long.parseLong(third.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow())).isEqualTo(before);
  }
}
