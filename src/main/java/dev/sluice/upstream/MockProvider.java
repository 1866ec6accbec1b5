package dev.sluice.upstream;

import dev.sluice.config.ProviderConfig;
import dev.sluice.mock.MockResponder;
import dev.sluice.mock.MockScript;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The built-in provider of the embedded default: deterministic answers after a configured latency, streamed at a
 * configured tokens-per-second, with the fault script of {@link MockScript} (status, stall, cut). It honours the
 * same timeouts as a real provider, so a stall ends in an idle-timeout failure.
 */
public final class MockProvider implements Provider {
  private final Vertx vertx;
  private final ProviderConfig config;

  public MockProvider(Vertx vertx, ProviderConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  @Override
  public Future<UpstreamReply> send(UpstreamRequest request) {
    MockScript script = MockScript.parse(request.model(), config.latency(), config.tokensPerSecond());
    Promise<UpstreamReply> promise = Promise.promise();
    long delay = script.latency().toMillis();
    Runnable answer = () -> {
      if (request.cancellation().isCancelled()) {
        promise.tryFail(UpstreamFailure.of(UpstreamFailure.Kind.CANCELLED, "client went away"));
      } else if (script.status() != 0) {
        promise.tryFail(UpstreamFailure.status(script.status(), MockResponder.error(script.status()).getJsonObject("error"), -1));
      } else {
        promise.tryComplete(reply(request, script));
      }
    };
    // Like a real upstream, an answer later than the headers timeout (streams; the mock sends headers and the first
    // chunk together) or the total timeout (non-streaming) is a timeout failure at that deadline, not a late answer.
    long limit = (request.stream() ? request.timeoutsOr(config.timeouts()).headers()
        : request.timeoutsOr(config.timeouts()).total()).toMillis();
    UpstreamFailure.Kind timeout = request.stream() ? UpstreamFailure.Kind.HEADERS_TIMEOUT : UpstreamFailure.Kind.TOTAL_TIMEOUT;
    if (delay <= 0) {
      answer.run();
    } else {
      boolean late = delay >= limit;
      long timer = vertx.setTimer(late ? limit : delay, id -> {
        if (late) {
          promise.tryFail(UpstreamFailure.of(timeout, "mock answer later than the " + timeout.name().toLowerCase(java.util.Locale.ROOT)));
        } else {
          answer.run();
        }
      });
      request.cancellation().onCancel(() -> {
        vertx.cancelTimer(timer);
        promise.tryFail(UpstreamFailure.of(UpstreamFailure.Kind.CANCELLED, "client went away"));
      });
    }
    return promise.future();
  }

  private UpstreamReply reply(UpstreamRequest request, MockScript script) {
    long created = System.currentTimeMillis() / 1000;
    String model = MockScript.baseModel(request.model());
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (request.endpoint() == Endpoint.EMBEDDINGS) {
      JsonObject body = MockResponder.embeddings(request.body(), model, false);
      return new UpstreamReply.Json(200, headers, body.toBuffer(), body);
    }
    if (!request.stream()) {
      JsonObject body = MockResponder.completion(request.body(), model, created);
      return new UpstreamReply.Json(200, headers, body.toBuffer(), body);
    }
    List<JsonObject> chunks = MockResponder.chunks(request.body(), model, created);
    TimedStream rest = new TimedStream(chunks, script, request.cancellation());
    JsonObject first = chunks.get(0);
    return new UpstreamReply.Stream(200, headers, new ChatChunk(first.encode(), first), rest);
  }


  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }

  /** Emits the remaining chunks one per interval, honouring pause, stall and cut. */
  private final class TimedStream implements ChunkStream {
    private final List<JsonObject> chunks;
    private final MockScript script;
    private int next = 1;
    private int contentSent;
    private boolean paused = true;
    private boolean finished;
    private long timer = -1;
    private Handler<ChatChunk> handler;
    private Handler<Void> endHandler;
    private Handler<UpstreamFailure> failureHandler;

    TimedStream(List<JsonObject> chunks, MockScript script, Cancellation cancellation) {
      this.chunks = chunks;
      this.script = script;
      cancellation.onCancel(this::cancel);
    }

    private void schedule() {
      if (finished || paused || timer != -1) return;
      long interval = script.chunkIntervalMillis();
      if (interval == 0) {
        timer = 0;
        vertx.runOnContext(v -> {
          timer = -1;
          emit();
        });
      } else {
        timer = vertx.setTimer(interval, id -> {
          timer = -1;
          emit();
        });
      }
    }

    private void emit() {
      if (finished || paused) return;
      if (script.cutAfter() >= 0 && contentSent >= script.cutAfter()) {
        fail(UpstreamFailure.of(UpstreamFailure.Kind.STREAM_EOF, "mock cut the stream"));
        return;
      }
      if (script.stallAfter() >= 0 && contentSent >= script.stallAfter()) {
        timer = vertx.setTimer(config.timeouts().idle().toMillis(), id -> {
          timer = -1;
          fail(UpstreamFailure.of(UpstreamFailure.Kind.IDLE_TIMEOUT, "upstream stream stalled"));
        });
        return;
      }
      if (next >= chunks.size()) {
        finished = true;
        if (handler != null) handler.handle(ChatChunk.DONE);
        if (endHandler != null) endHandler.handle(null);
        return;
      }
      JsonObject chunk = chunks.get(next++);
      contentSent++;
      if (handler != null) handler.handle(new ChatChunk(chunk.encode(), chunk));
      schedule();
    }

    private void fail(UpstreamFailure failure) {
      if (finished) return;
      finished = true;
      if (failureHandler != null) failureHandler.handle(failure);
    }

    @Override
    public ChunkStream handler(Handler<ChatChunk> h) {
      this.handler = h;
      return this;
    }

    @Override
    public ChunkStream endHandler(Handler<Void> h) {
      this.endHandler = h;
      return this;
    }

    @Override
    public ChunkStream failureHandler(Handler<UpstreamFailure> h) {
      this.failureHandler = h;
      return this;
    }

    @Override
    public void pause() {
      paused = true;
    }

    @Override
    public void resume() {
      paused = false;
      schedule();
    }

    @Override
    public void cancel() {
      finished = true;
      if (timer > 0) vertx.cancelTimer(timer);
    }
  }
}
