package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.FakeUpstream.Scripts;
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
 * The upstream pool is bounded (8 connections, 4 waiting): beyond it requests get a fast 503 {@code overloaded}
 * instead of queueing without bound.
 */
class UpstreamPoolTest extends GatewayTest {
  record Outcome(int status, String code, long millis) {}

  HttpClient client;

  @BeforeEach
  void client() {
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  private HttpRequest request() {
    return HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
        .timeout(Duration.ofSeconds(10)).header("content-type", "application/json")
        .header("authorization", "Bearer " + TestGateway.KEY)
        .POST(HttpRequest.BodyPublishers.ofString(CommitPointTest.PLAIN)).build();
  }

  private CompletableFuture<Outcome> fire() {
    long start = System.nanoTime();
    return client.sendAsync(request(), HttpResponse.BodyHandlers.ofString()).thenApply(r -> new Outcome(r.statusCode(),
        new JsonObject(r.body()).getJsonObject("error").getString("code"), (System.nanoTime() - start) / 1_000_000));
  }

  @Test
  void requestsBeyondPoolAndWaitQueueGetAFast503Overloaded() throws Exception {
    // warm up (class loading, JIT) so the timing below measures the pool, not the first request
    assertThat(client.send(request(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    upstream.always(Scripts.hang());
    List<CompletableFuture<Outcome>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) calls.add(fire());
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    List<Outcome> outcomes = calls.stream().map(CompletableFuture::join).toList();

    List<Outcome> overloaded = outcomes.stream().filter(o -> "overloaded".equals(o.code())).toList();
    assertThat(overloaded).isNotEmpty().allSatisfy(o -> {
      assertThat(o.status()).isEqualTo(503);
      assertThat(o.millis()).isLessThan(900L); // before any upstream timeout (1 s) could have freed a connection
    });
    // everyone else got a connection (at most 8 + 4 waiting) and timed out
    assertThat(outcomes).filteredOn(o -> !"overloaded".equals(o.code()))
        .hasSizeLessThanOrEqualTo(12).allSatisfy(o -> assertThat(o.code()).isEqualTo("upstream_timeout"));
    assertThat(upstream.requestCount()).isLessThanOrEqualTo(12);
  }
}
