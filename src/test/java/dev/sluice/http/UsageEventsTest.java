package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Await;
import dev.sluice.testing.ControlledStream;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Http;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import dev.sluice.usage.SpendLedger;
import dev.sluice.usage.UsageEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Exactly one usage event per request, whatever the exit path; the ledger books each request once. */
class UsageEventsTest {
  Vertx vertx;
  FakeUpstream upstream;
  TestGateway gateway;
  final List<UsageEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    String yaml = TestGateway.yaml(upstream.baseUrl(), "pricing: { upstream-mini: { input: 1.0, output: 2.0 } }")
        .replace("server: { port: 0,", "server: { port: 0, admin-port: 0, admin-token: \"admin-secret-token-1234567890\",")
        .replace("    keys: [ { id: acme-key-1,", "    cache: { enabled: true }\n    budget: { daily-usd: 5 }\n    keys: [ { id: acme-key-1,")
        .replace("    keys: [ { id: beta-key-1,", "    limits: { requests-per-minute: 1 }\n    keys: [ { id: beta-key-1,");
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
    vertx.eventBus().<UsageEvent>consumer(UsageEvent.ADDRESS, m -> events.add(m.body())).completion().await();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    vertx.close().await();
  }

  UsageEvent eventFor(HttpResponse<?> response) throws Exception {
    String id = response.headers().firstValue("x-request-id").orElseThrow();
    return eventFor(id);
  }

  UsageEvent eventFor(String requestId) throws Exception {
    Await.until(vertx, Duration.ofSeconds(20), "usage event for " + requestId,
        () -> events.stream().anyMatch(e -> e.requestId().equals(requestId)));
    List<UsageEvent> mine = events.stream().filter(e -> e.requestId().equals(requestId)).toList();
    assertThat(mine).as("exactly one event").hasSize(1);
    return mine.get(0);
  }

  static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  @Test
  void aRejectedKeyIsLoggedUnderTheEndpointItCalled() throws Exception {
    HttpResponse<String> chat = Http.post(gateway.baseUrl() + "/chat/completions", "sk-not-a-key", CHAT);
    assertThat(chat.statusCode()).isEqualTo(401);
    assertThat(eventFor(chat).endpoint()).isEqualTo("chat");
    HttpResponse<String> embeddings = Http.post(gateway.baseUrl() + "/embeddings", "sk-not-a-key", "{\"model\":\"x\",\"input\":\"a\"}");
    assertThat(eventFor(embeddings).endpoint()).isEqualTo("embeddings");
    assertThat(eventFor(Http.get(gateway.baseUrl() + "/models", "sk-not-a-key")).endpoint()).isEqualTo("models");
  }

  @Test
  void successStreamHitRejectionAndUpstreamErrorEachPublishOneEvent() throws Exception {
    String url = gateway.baseUrl() + "/chat/completions";
    UsageEvent ok = eventFor(Http.post(url, TestGateway.KEY, CHAT));
    assertThat(ok.outcome()).isEqualTo("ok");
    assertThat(ok.usageSource()).isEqualTo("provider");
    assertThat(ok.promptTokens()).isEqualTo(7);
    assertThat(ok.costUsd()).isEqualTo((7 * 1.0 + 5 * 2.0) / 1e6);

    UsageEvent hit = eventFor(Http.post(url, TestGateway.KEY, CHAT));
    assertThat(hit.cache()).isEqualTo("HIT");
    assertThat(hit.costUsd()).isZero();
    assertThat(hit.tokensSaved()).isEqualTo(12);

    UsageEvent stream = eventFor(Http.post(url, TestGateway.KEY, CHAT.replace("\"temperature\":0", "\"stream\":true")));
    assertThat(stream.stream()).isTrue();
    assertThat(stream.completionTokens()).isEqualTo(5);
    assertThat(stream.ttftMs()).isPositive();

    assertThat(Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY, "{\"model\":\"text-embedding-3-small\",\"input\":\"a\"}")
        .statusCode()).isEqualTo(200);
    UsageEvent rejected = eventFor(Http.post(gateway.baseUrl() + "/embeddings", TestGateway.OTHER_KEY,
        "{\"model\":\"text-embedding-3-small\",\"input\":\"a\"}"));
    assertThat(rejected.outcome()).isEqualTo("rejected");
    assertThat(rejected.rateLimit()).isEqualTo("requests");

    upstream.next(Scripts.error(502, "server_error", null, "bad gateway"));
    UsageEvent failed = eventFor(Http.post(url, TestGateway.KEY, CHAT.replace("hi", "fail")));
    assertThat(failed.outcome()).isEqualTo("upstream_error");
    assertThat(failed.status()).isEqualTo(503);
    assertThat(failed.costUsd()).isZero();
  }

  @Test
  void clientCancelMidStreamBillsTheCountedPartialOutput() throws Exception {
    // the upstream sends two pieces and then nothing until the client has gone, so the stream cannot finish first
    ControlledStream stream = new ControlledStream();
    upstream.next(stream.script());
    String id;
    try (RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY,
        CHAT.replace("\"temperature\":0", "\"stream\":true"))) {
      for (String frame : List.of(Sse.role(), Sse.content("one "), Sse.content("two "))) stream.send(frame);
      assertThat(client.status()).isEqualTo(200);
      id = client.header("x-request-id");
      client.nextEvent();
      client.nextEvent();
      client.nextEvent();
    }
    UsageEvent cancelled = eventFor(id);
    assertThat(cancelled.outcome()).isEqualTo("client_cancel");
    assertThat(cancelled.usageSource()).isEqualTo("counted");
    assertThat(cancelled.completionTokens()).isBetween(2L, 6L);
    assertThat(cancelled.costUsd()).isPositive();
  }

  @Test
  void ledgerBooksEachRequestOnceAndTheAdminEndpointShowsIt() throws Exception {
    HttpResponse<String> first = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY, CHAT.replace("hi", "ledger"));
    UsageEvent event = eventFor(first);
    double cost = event.costUsd();
    vertx.eventBus().publish(UsageEvent.ADDRESS, event); // a redelivery must not count twice
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    Await.until(vertx, Duration.ofSeconds(20), "ledger booked",
        () -> gateway.gateway.ledger().spend("acme", today).await().dayUsd() > 0);
    SpendLedger.Spend spend = gateway.gateway.ledger().spend("acme", today).await();
    assertThat(spend.dayUsd()).isEqualTo(cost, org.assertj.core.data.Offset.offset(1e-12));

    String admin = "http://127.0.0.1:" + gateway.gateway.adminPort() + "/admin/tenants/acme/spend";
    assertThat(Http.get(admin, null).statusCode()).isEqualTo(401);
    assertThat(Http.get(admin, "wrong-token").statusCode()).isEqualTo(401);
    HttpResponse<String> ok = Http.get(admin, "admin-secret-token-1234567890");
    assertThat(ok.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(ok.body());
    assertThat(body.getDouble("day_usd")).isEqualTo(cost, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(body.getDouble("daily_budget_usd")).isEqualTo(5.0);
    assertThat(Http.get(admin.replace("acme", "nobody"), "admin-secret-token-1234567890").statusCode()).isEqualTo(404);
    Await.until(vertx, Duration.ofSeconds(20), "budget gauge", () -> {
      try {
        return Http.get(gateway.metricsUrl(), null).body().contains("llm_budget_remaining_usd{tenant=\"acme\"}");
      } catch (Exception e) {
        return false;
      }
    });
  }
}
