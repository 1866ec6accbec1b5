package dev.sluice.mock;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code sluice mock-upstream}: a stand-alone OpenAI-compatible server with deterministic answers, for load tests
 * and demos. Per-request faults come from the model name ({@link MockScript}); {@code errorRate} adds random
 * {@code errorStatus} answers.
 */
public final class MockUpstreamServer {
  /** Server-wide behaviour. */
  public record Settings(String host, int port, Duration latency, int tokensPerSecond, double errorRate, int errorStatus) {}

  private final Vertx vertx;
  private final Settings settings;
  private HttpServer server;

  public MockUpstreamServer(Vertx vertx, Settings settings) {
    this.vertx = vertx;
    this.settings = settings;
  }

  public Future<Integer> start() {
    server = vertx.createHttpServer(new HttpServerOptions().setHost(settings.host()).setPort(settings.port()).setTcpNoDelay(true))
        .requestHandler(this::handle);
    return server.listen().map(HttpServer::actualPort);
  }

  public Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    if (path.endsWith("/models")) {
      request.response().putHeader("content-type", "application/json").end(new JsonObject().put("object", "list")
          .put("data", new JsonArray().add(new JsonObject().put("id", "mock").put("object", "model")
              .put("created", 0).put("owned_by", "sluice-mock"))).toBuffer());
      return;
    }
    request.body().onSuccess(body -> {
      JsonObject json;
      try {
        json = body.toJsonObject();
      } catch (DecodeException | ClassCastException e) {
        request.response().setStatusCode(400).putHeader("content-type", "application/json").end(MockResponder.error(400).toBuffer());
        return;
      }
      String model = json.getValue("model") instanceof String m ? m : "mock";
      MockScript script = MockScript.parse(model, settings.latency(), settings.tokensPerSecond());
      int status = script.status() != 0 ? script.status()
          : settings.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < settings.errorRate() ? settings.errorStatus() : 0;
      long delay = script.latency().toMillis();
      Runnable answer = () -> answer(request, json, MockScript.baseModel(model), script, status, path.endsWith("/embeddings"));
      if (delay <= 0) {
        answer.run();
      } else {
        vertx.setTimer(delay, id -> answer.run());
      }
    });
  }

  private void answer(HttpServerRequest request, JsonObject json, String model, MockScript script, int status, boolean embeddings) {
    HttpServerResponse response = request.response();
    if (response.closed()) return;
    if (status != 0) {
      response.setStatusCode(status).putHeader("content-type", "application/json");
      if (status == 429 || status == 503) response.putHeader("retry-after", "1");
      response.end(MockResponder.error(status).toBuffer());
      return;
    }
    long created = System.currentTimeMillis() / 1000;
    if (embeddings) {
      response.putHeader("content-type", "application/json").end(MockResponder.embeddings(json, model, true).toBuffer());
      return;
    }
    if (!Boolean.TRUE.equals(json.getValue("stream"))) {
      response.putHeader("content-type", "application/json").end(MockResponder.completion(json, model, created).toBuffer());
      return;
    }
    List<JsonObject> chunks = MockResponder.chunks(json, model, created);
    response.putHeader("content-type", "text/event-stream").putHeader("cache-control", "no-cache").setChunked(true);
    sendChunks(response, chunks, 0, script);
  }

  private void sendChunks(HttpServerResponse response, List<JsonObject> chunks, int index, MockScript script) {
    if (response.closed()) return;
    if (script.cutAfter() >= 0 && index > script.cutAfter()) {
      response.reset();
      return;
    }
    if (script.stallAfter() >= 0 && index > script.stallAfter()) {
      return; // hold the connection open, silent, until the client gives up
    }
    if (index == chunks.size()) {
      response.end("data: [DONE]\n\n");
      return;
    }
    response.write(Buffer.buffer("data: ").appendBuffer(chunks.get(index).toBuffer()).appendString("\n\n"));
    long interval = index == 0 ? 0 : script.chunkIntervalMillis();
    if (interval == 0) {
      sendChunks(response, chunks, index + 1, script);
    } else {
      vertx.setTimer(interval, id -> sendChunks(response, chunks, index + 1, script));
    }
  }

}
