package dev.sluice.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A real HTTP server on 127.0.0.1:0 that speaks OpenAI JSON and SSE and plays scripted faults. Records every request
 * (path, headers, body) and when the gateway closed each request's connection.
 */
public final class FakeUpstream implements AutoCloseable {
  /** What one request gets. */
  @FunctionalInterface
  public interface Script {
    void play(Exchange exchange);
  }

  /** A received request and its response, handed to a script. */
  public static final class Exchange {
    public final HttpServerRequest request;
    public final HttpServerResponse response;
    public final JsonObject body;
    public final Vertx vertx;

    Exchange(Vertx vertx, HttpServerRequest request, JsonObject body) {
      this.vertx = vertx;
      this.request = request;
      this.response = request.response();
      this.body = body;
    }

    public String model() {
      return body.getString("model");
    }
  }

  /** One recorded request; {@code query} is the raw query string or null. */
  public record Recorded(String path, Map<String, String> headers, JsonObject body, CompletableFuture<Long> closedAtNanos,
                         String query) {}

  private final Vertx vertx;
  private final ConcurrentLinkedQueue<Script> queue = new ConcurrentLinkedQueue<>();
  private final List<Recorded> recorded = new CopyOnWriteArrayList<>();
  private volatile Script fallback = Scripts.chat("Hello from the fake upstream.");
  private HttpServer server;

  private FakeUpstream(Vertx vertx) {
    this.vertx = vertx;
  }

  public static FakeUpstream start(Vertx vertx) {
    FakeUpstream fake = new FakeUpstream(vertx);
    fake.server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
        .requestHandler(fake::handle);
    fake.server.listen().await();
    return fake;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort() + "/v1";
  }

  /** {@code http://127.0.0.1:PORT}: the base URL of Azure and Anthropic providers, which add their own paths. */
  public String rootUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** The script for every request that has no queued one. */
  public FakeUpstream always(Script script) {
    this.fallback = script;
    return this;
  }

  /** A script for the next request only (FIFO). */
  public FakeUpstream next(Script script) {
    queue.add(script);
    return this;
  }

  public List<Recorded> requests() {
    return List.copyOf(recorded);
  }

  public int requestCount() {
    return recorded.size();
  }

  /** Waits (bounded) until at least {@code count} requests have arrived. */
  public void awaitRequests(int count, long timeoutMillis) throws Exception {
    CompletableFuture<Void> reached = new CompletableFuture<>();
    synchronized (waiters) {
      if (recorded.size() >= count) return;
      waiters.add(new Object[] {count, reached});
    }
    reached.get(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  private final List<Object[]> waiters = new ArrayList<>();

  @SuppressWarnings("unchecked")
  private void notifyWaiters() {
    synchronized (waiters) {
      waiters.removeIf(w -> {
        if (recorded.size() >= (int) w[0]) {
          ((CompletableFuture<Void>) w[1]).complete(null);
          return true;
        }
        return false;
      });
    }
  }

  public Recorded lastRequest() {
    return recorded.get(recorded.size() - 1);
  }

  /** Waits until the connection of request {@code index} closes; returns nanos between now-ish and close. */
  public long awaitClosed(int index, long timeoutMillis) throws Exception {
    return recorded.get(index).closedAtNanos().get(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  private void handle(HttpServerRequest request) {
    CompletableFuture<Long> closed = new CompletableFuture<>();
    request.connection().closeHandler(v -> closed.complete(System.nanoTime()));
    request.body().onSuccess(buffer -> {
      JsonObject body = buffer.length() == 0 ? new JsonObject() : new JsonObject(buffer);
      Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      request.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
      recorded.add(new Recorded(request.path(), headers, body, closed, request.query()));
      notifyWaiters();
      Script script = queue.poll();
      (script == null ? fallback : script).play(new Exchange(vertx, request, body));
    });
  }

  @Override
  public void close() {
    server.close().await();
  }

  /** Ready-made scripts. */
  public static final class Scripts {
    private Scripts() {}

    public static Script json(int status, JsonObject body) {
      return ex -> ex.response.setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
    }

    public static Script raw(int status, String contentType, String body) {
      return ex -> ex.response.setStatusCode(status).putHeader("content-type", contentType).end(body);
    }

    public static Script error(int status, String type, String code, String message) {
      return json(status, new JsonObject().put("error", new JsonObject().put("message", message).put("type", type)
          .putNull("param").put("code", code)));
    }

    /** A non-streaming completion with {@code content}, or a stream of it word by word when the request asks. */
    public static Script chat(String content) {
      return ex -> {
        if (Boolean.TRUE.equals(ex.body.getValue("stream"))) {
          stream(words(content), 0).play(ex);
        } else {
          json(200, completion(ex.model(), content, "stop")).play(ex);
        }
      };
    }

    /**
     * Answers with one function call: a {@code tool_calls} completion, or when streamed a role chunk, a chunk that
     * opens the call (id, name, empty arguments), the arguments in pieces of {@code argumentPiece} characters, a
     * {@code tool_calls} finish chunk, the usage chunk when asked and {@code [DONE]}.
     */
    public static Script toolCall(String callId, String name, String arguments, int argumentPiece) {
      return ex -> {
        String model = ex.model();
        if (!Boolean.TRUE.equals(ex.body.getValue("stream"))) {
          JsonObject call = new JsonObject().put("id", callId).put("type", "function")
              .put("function", new JsonObject().put("name", name).put("arguments", arguments));
          JsonObject body = completion(model, null, "tool_calls");
          body.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
              .put("tool_calls", new JsonArray().add(call));
          json(200, body).play(ex);
          return;
        }
        List<String> out = new ArrayList<>();
        out.add(data(chunk(model, new JsonObject().put("role", "assistant").putNull("content"), null)));
        JsonObject open = new JsonObject().put("index", 0).put("id", callId).put("type", "function")
            .put("function", new JsonObject().put("name", name).put("arguments", ""));
        out.add(data(chunk(model, new JsonObject().put("tool_calls", new JsonArray().add(open)), null)));
        for (int i = 0; i < arguments.length(); i += argumentPiece) {
          JsonObject part = new JsonObject().put("index", 0).put("function", new JsonObject()
              .put("arguments", arguments.substring(i, Math.min(arguments.length(), i + argumentPiece))));
          out.add(data(chunk(model, new JsonObject().put("tool_calls", new JsonArray().add(part)), null)));
        }
        out.add(data(chunk(model, new JsonObject(), "tool_calls")));
        JsonObject options = ex.body.getJsonObject("stream_options");
        if (options != null && Boolean.TRUE.equals(options.getValue("include_usage"))) {
          out.add(data(new JsonObject().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk").put("created", 1)
              .put("model", model).put("choices", new JsonArray()).put("usage", usage(7, 5))));
        }
        out.add("data: [DONE]\n\n");
        frames(out, 0, true).play(ex);
      };
    }

    /** An embeddings list with the given vectors as float arrays, whatever {@code encoding_format} was asked. */
    public static Script floatEmbeddings(List<float[]> vectors) {
      return ex -> {
        JsonArray data = new JsonArray();
        for (int i = 0; i < vectors.size(); i++) {
          JsonArray floats = new JsonArray();
          for (float f : vectors.get(i)) floats.add((double) f);
          data.add(new JsonObject().put("object", "embedding").put("index", i).put("embedding", floats));
        }
        json(200, new JsonObject().put("object", "list").put("data", data).put("model", ex.model())
            .put("usage", new JsonObject().put("prompt_tokens", 3).put("total_tokens", 3))).play(ex);
      };
    }

    public static Script hang() {
      return ex -> { };
    }

    /**
     * Streams content pieces as chunks (role chunk, pieces, finish chunk, usage chunk when asked, [DONE]) with
     * {@code delayMillis} between events.
     */
    public static Script stream(List<String> pieces, long delayMillis) {
      return streamEvents(ex -> events(ex, pieces, "stop", true), delayMillis);
    }

    /** Sends the given SSE frames (each a complete "data: …\n\n" or comment) with a delay, then ends the response. */
    public static Script frames(List<String> frames, long delayMillis, boolean endAfter) {
      return ex -> {
        ex.response.setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
        send(ex, frames, 0, delayMillis, endAfter);
      };
    }

    private static Script streamEvents(Function<Exchange, List<String>> frames, long delayMillis) {
      return ex -> frames(frames.apply(ex), delayMillis, true).play(ex);
    }

    private static void send(Exchange ex, List<String> frames, int i, long delayMillis, boolean endAfter) {
      if (ex.response.closed()) return;
      if (i == frames.size()) {
        if (endAfter) ex.response.end();
        return;
      }
      ex.response.write(Buffer.buffer(frames.get(i)));
      if (delayMillis <= 0) {
        send(ex, frames, i + 1, delayMillis, endAfter);
      } else {
        ex.vertx.setTimer(delayMillis, id -> send(ex, frames, i + 1, delayMillis, endAfter));
      }
    }

    /** The SSE frames of a normal stream for {@code pieces}. */
    public static List<String> events(Exchange ex, List<String> pieces, String finishReason, boolean done) {
      String model = ex.model();
      List<String> out = new ArrayList<>();
      out.add(data(chunk(model, new JsonObject().put("role", "assistant").put("content", ""), null)));
      for (String piece : pieces) out.add(data(chunk(model, new JsonObject().put("content", piece), null)));
      out.add(data(chunk(model, new JsonObject(), finishReason)));
      JsonObject options = ex.body.getJsonObject("stream_options");
      if (options != null && Boolean.TRUE.equals(options.getValue("include_usage"))) {
        out.add(data(new JsonObject().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk").put("created", 1)
            .put("model", model).put("choices", new JsonArray()).put("usage", usage(7, pieces.size()))));
      }
      if (done) out.add("data: [DONE]\n\n");
      return out;
    }

    public static String data(JsonObject json) {
      return "data: " + json.encode() + "\n\n";
    }

    public static JsonObject chunk(String model, JsonObject delta, String finishReason) {
      return new JsonObject().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk").put("created", 1)
          .put("model", model).put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
              .putNull("logprobs").put("finish_reason", finishReason)));
    }

    public static JsonObject completion(String model, String content, String finishReason) {
      return new JsonObject().put("id", "chatcmpl-fake").put("object", "chat.completion").put("created", 1)
          .put("model", model).put("choices", new JsonArray().add(new JsonObject().put("index", 0)
              .put("message", new JsonObject().put("role", "assistant").put("content", content).putNull("refusal"))
              .putNull("logprobs").put("finish_reason", finishReason)))
          .put("usage", usage(7, content == null ? 1 : words(content).size()));
    }

    public static JsonObject usage(int prompt, int completion) {
      return new JsonObject().put("prompt_tokens", prompt).put("completion_tokens", completion)
          .put("total_tokens", prompt + completion);
    }

    public static List<String> words(String content) {
      List<String> out = new ArrayList<>();
      for (String w : content.split("(?<= )")) out.add(w);
      return out;
    }
  }
}
