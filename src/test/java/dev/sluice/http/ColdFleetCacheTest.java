package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Http;
import dev.sluice.testing.RedisServer;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A fleet that has just started: two replicas in their own Vert.x instances sharing one Redis, with the shipped Redis
 * command timeout, receive a burst of identical cacheable requests the moment they report ready.
 */
class ColdFleetCacheTest {
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"cold start\"}]}";
  final ExecutorService pool = Executors.newFixedThreadPool(20);
  final List<Vertx> vertxes = new ArrayList<>();
  final List<TestGateway> replicas = new ArrayList<>();
  RedisServer redis;
  FakeUpstream upstream;

  @BeforeEach
  void start() throws Exception {
    redis = RedisServer.start();
    Vertx upstreamVertx = vertx();
    upstream = FakeUpstream.start(upstreamVertx);
  }

  @AfterEach
  void stop() throws Exception {
    pool.shutdownNow();
    replicas.forEach(TestGateway::close);
    upstream.close();
    for (Vertx v : vertxes) v.close().await();
    redis.close();
  }

  Vertx vertx() {
    Vertx v = Vertx.vertx();
    vertxes.add(v);
    return v;
  }

  /** A replica as shipped: Redis with the default command timeout, two event loops, the tenant opted into the cache. */
  TestGateway replica() {
    String yaml = TestGateway.yaml(upstream.baseUrl(), "redis: { url: \"" + redis.url() + "\" }",
            "{ port: 0, instances: 2, shutdown-grace: 2s }",
            "{ connect: 2s, headers: 30s, first-token: 30s, idle: 30s, total: 60s }")
        .replace("max-connections: 8", "max-connections: 64").replace("max-wait-queue: 4", "max-wait-queue: 64")
        .replace("    keys: [ { id: acme-key-1,", "    cache: { enabled: true, ttl: 1h }\n    keys: [ { id: acme-key-1,");
    TestGateway replica = TestGateway.start(vertx(), ConfigLoader.parse(yaml, Map.of()));
    replicas.add(replica);
    return replica;
  }

  static String cacheHeader(HttpResponse<?> response) {
    return response.headers().firstValue("x-sluice-cache").orElse("");
  }

  static String content(HttpResponse<String> response) {
    return new JsonObject(response.body()).getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  void awaitReady(TestGateway replica) throws Exception {
    Await.until(vertxes.get(0), Duration.ofSeconds(10), "replica ready",
        () -> Http.get("http://127.0.0.1:" + replica.port() + "/health/ready", null).statusCode() == 200);
  }

  @Test
  void twentyConcurrentColdMissesAcrossTwoFreshReplicasMakeOneUpstreamCallThenHit() throws Exception {
    TestGateway a = replica();
    TestGateway b = replica();
    awaitReady(a);
    awaitReady(b);
    upstream.always(ex -> ex.vertx.setTimer(300, id -> Scripts.chat("One answer for the fleet.").play(ex)));
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      TestGateway target = i % 2 == 0 ? a : b;
      calls.add(CompletableFuture.supplyAsync(() -> {
        try {
          go.await();
          return Http.post(target.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, pool));
    }
    go.countDown();
    List<String> statuses = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> call : calls) {
      HttpResponse<String> r = call.get();
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(content(r)).isEqualTo("One answer for the fleet.");
      statuses.add(cacheHeader(r));
    }
    assertThat(upstream.requestCount()).as("upstream calls for 20 identical cold misses; x-sluice-cache: %s", statuses)
        .isEqualTo(1);
    for (TestGateway replica : List.of(a, b)) {
      HttpResponse<String> repeat = Http.post(replica.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT);
      assertThat(cacheHeader(repeat)).isEqualTo("HIT");
    }
    assertThat(upstream.requestCount()).isEqualTo(1);
  }
}
