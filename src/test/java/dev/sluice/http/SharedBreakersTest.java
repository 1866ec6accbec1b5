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
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Replicas sharing Redis share breaker openings: one replica's failures stop the others' calls too. */
class SharedBreakersTest {
  static final String ADMIN_TOKEN = "admin-secret-token-1234567890";
  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  RedisServer redisServer;
  Vertx vertx;
  FakeUpstream primary;
  FakeUpstream backup;
  TestGateway a;
  TestGateway b;

  @BeforeEach
  void start() throws Exception {
    redisServer = RedisServer.start();
    vertx = Vertx.vertx();
    primary = FakeUpstream.start(vertx).always(Scripts.error(503, "server_error", null, "down"));
    backup = FakeUpstream.start(vertx).always(Scripts.chat("From the backup."));
    a = gateway(redisServer.url());
    b = gateway(redisServer.url());
  }

  TestGateway gateway(String redisUrl) {
    String yaml = """
        server: { port: 0, instances: 1, admin-port: 0, admin-token: "%s" }
        security: { key-pepper: "%s" }
        redis: { url: "%s" }
        providers:
          primary: { type: openai-compatible, base-url: %s }
          backup: { type: openai-compatible, base-url: %s }
        models:
          gpt-4o-mini: { deployments: [ { provider: primary, model: p }, { provider: backup, model: b } ] }
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
        resilience: { breaker-window: 4, breaker-min-calls: 2, breaker-open: 1m }
        """.formatted(ADMIN_TOKEN, TestGateway.PEPPER, redisUrl, primary.baseUrl(), backup.baseUrl(),
        TestGateway.digest(TestGateway.KEY));
    return TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  @AfterEach
  void stop() throws Exception {
    a.close();
    b.close();
    primary.close();
    backup.close();
    vertx.close().await();
    redisServer.close();
  }

  static String breakerState(TestGateway gateway) throws Exception {
    JsonObject deployments = new JsonObject(Http.get("http://127.0.0.1:" + gateway.gateway.adminPort() + "/admin/breakers",
        ADMIN_TOKEN).body()).getJsonObject("deployments");
    JsonObject primary = deployments.getJsonObject("primary/p");
    return primary == null ? "unknown" : primary.getString("state");
  }

  @Test
  void aBreakerOpenedOnOneReplicaIsOpenOnTheOtherWithoutItCallingTheDeployment() throws Exception {
    Await.until(vertx, Duration.ofSeconds(20), "both replicas subscribed",
        () -> redisServer.command("PUBSUB", "NUMSUB", "sluice:breakers").contains("2"));
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> response = Http.post(a.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT);
      assertThat(response.headers().firstValue("x-sluice-provider")).hasValue("backup");
    }
    assertThat(breakerState(a)).isEqualTo("open");
    assertThat(primary.requestCount()).isEqualTo(2);

    Await.until(vertx, Duration.ofSeconds(20), "replica b learns of the opening", () -> breakerState(b).equals("open"));
    HttpResponse<String> response = Http.post(b.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT);
    assertThat(response.headers().firstValue("x-sluice-provider")).hasValue("backup");
    assertThat(response.headers().firstValue("x-sluice-fallback")).isEmpty(); // the primary was skipped, not tried
    assertThat(primary.requestCount()).as("replica b never called the failing primary").isEqualTo(2);
  }

  @Test
  void aReplicaWhoseRedisIsDownStillBreaksOnItsOwn() throws Exception {
    TestGateway isolated = gateway("redis://127.0.0.1:" + RedisServer.freePort());
    try {
      for (int i = 0; i < 3; i++) {
        assertThat(Http.post(isolated.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT).statusCode()).isEqualTo(200);
      }
      assertThat(breakerState(isolated)).isEqualTo("open");
      assertThat(primary.requestCount()).isEqualTo(2);
      assertThat(breakerState(a)).as("no Redis in common: nothing shared").isEqualTo("closed");
    } finally {
      isolated.close();
    }
  }
}
