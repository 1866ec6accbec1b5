package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.Gate;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The upstream pool is bounded (8 connections, 4 waiting): beyond it requests get an immediate 503 {@code overloaded}
 * instead of queueing without bound. "Immediate" is shown by order, not by a stopwatch: the
 * refusals arrive while every admitted request is still held by the upstream, so nothing can have freed a connection.
 */
class UpstreamPoolTest extends GatewayTest {
  record Outcome(int status, String code) {}

  HttpClient client;

  @BeforeEach
  void client() {
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  private HttpRequest request() {
    return HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
        .timeout(Duration.ofSeconds(20)).header("content-type", "application/json")
        .header("authorization", "Bearer " + TestGateway.KEY)
        .POST(HttpRequest.BodyPublishers.ofString(CommitPointTest.PLAIN)).build();
  }

  private CompletableFuture<Outcome> fire() {
    return client.sendAsync(request(), HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
      JsonObject error = r.statusCode() == 200 ? null : new JsonObject(r.body()).getJsonObject("error");
      return new Outcome(r.statusCode(), error == null ? null : error.getString("code"));
    });
  }

  @Test
  void requestsBeyondPoolAndWaitQueueGetAnImmediate503OverloadedWhileTheOthersWait() throws Exception {
    Gate gate = new Gate();
    upstream.always(gate.holding(Scripts.chat("Served once a connection was free.")));
    List<CompletableFuture<Outcome>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) calls.add(fire());
    // Settled: every request has been refused or is in flight, and every one in flight holds a connection to the
    // upstream (so none is still waiting for one) up to the pool's 8. Nothing has been answered, so nothing freed.
    Await.until(vertx, Duration.ofSeconds(20), "every request refused or on a connection", () -> {
      long refused = calls.stream().filter(CompletableFuture::isDone).count();
      int inFlight = gateway.gateway.inFlight();
      return refused + inFlight == 20 && gate.held() == Math.min(8, inFlight);
    });
    List<Outcome> refused = calls.stream().filter(CompletableFuture::isDone).map(CompletableFuture::join).toList();
    int admitted = 20 - refused.size();
    assertThat(admitted).as("at most 8 on connections + 4 waiting").isLessThanOrEqualTo(12);
    assertThat(refused).allSatisfy(o -> {
      assertThat(o.status()).isEqualTo(503);
      assertThat(o.code()).isEqualTo("overloaded");
    });
    assertThat(upstream.requestCount()).isEqualTo(Math.min(8, admitted));

    gate.open(); // the held ones answer, and any waiting ones get the freed connections
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    assertThat(calls.stream().map(CompletableFuture::join).filter(o -> o.status() == 200).count()).isEqualTo(admitted);
    assertThat(upstream.requestCount()).isEqualTo(admitted);
  }
}
