package dev.sluice.upstream;

import dev.sluice.config.ProviderTimeouts;
import dev.sluice.json.JsonProblem;
import dev.sluice.json.StrictJson;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One HTTP call to an OpenAI-shaped endpoint (or one whose dialect a {@link Dialect} translates), from request to
 * commit point and (for streams) to the end. Owns every upstream timer: headers, first data event, inter-event idle
 * (reset by delivered chunks only, not by comments or skipped events, and suspended while the client applies
 * backpressure), and the non-streaming total. Any failure resets the upstream connection. Confined to one event loop.
 */
final class HttpAttempt implements ChunkStream, SseParser.Listener {
  static final int MAX_ERROR_BODY = 64 * 1024;
  static final int MAX_JSON_BODY = 64 * 1024 * 1024;

  /**
   * Turns a provider's dialect into OpenAI shapes. Stream events may become zero chunks (skipped: not the commit
   * point, not progress for the idle timer), one, or several; {@link ChatChunk#DONE} ends the stream. Error events
   * ({@code event: error} or an {@code error} member) are handled before the dialect sees them. Either method may
   * throw an {@link UpstreamFailure} to fail the attempt.
   */
  interface Dialect {
    void onEvent(String event, String data, JsonObject json, Consumer<ChatChunk> out);

    /** The OpenAI-shaped body for a non-streaming 2xx reply; returning {@code json} itself keeps the raw bytes. */
    default JsonObject onBody(JsonObject json) {
      return json;
    }
  }

  private final Vertx vertx;
  private final ProviderTimeouts timeouts;
  private final boolean stream;
  private final Dialect dialect;
  /** Translated chunks not yet delivered (a dialect may emit several per event, or the client paused mid-event). */
  private final ArrayDeque<ChatChunk> pending = new ArrayDeque<>(4);
  private final Promise<UpstreamReply> promise = Promise.promise();

  private HttpClientRequest request;
  private HttpClientResponse response;
  private SseParser parser;
  private long timer = -1;
  private boolean committed;
  private boolean finished;
  private boolean paused;
  private boolean sawFinishReason;
  private long lastDataNanos;

  private Handler<ChatChunk> chunkHandler;
  private Handler<Void> endHandler;
  private Handler<UpstreamFailure> failureHandler;

  HttpAttempt(Vertx vertx, ProviderTimeouts timeouts, boolean stream) {
    this(vertx, timeouts, stream, null);
  }

  /** @param dialect {@code null} for OpenAI-shaped upstreams, whose events pass through byte-for-byte */
  HttpAttempt(Vertx vertx, ProviderTimeouts timeouts, boolean stream, Dialect dialect) {
    this.vertx = vertx;
    this.timeouts = timeouts;
    this.stream = stream;
    this.dialect = dialect;
  }

  io.vertx.core.Future<UpstreamReply> future() {
    return promise.future();
  }

  boolean isFinished() {
    return finished;
  }

  /** Sends the body on an obtained request and arms the pre-commit timers. */
  void start(HttpClientRequest req, Buffer body) {
    this.request = req;
    if (finished) {
      req.reset();
      return;
    }
    arm(stream ? timeouts.headers().toMillis() : timeouts.total().toMillis(),
        stream ? UpstreamFailure.Kind.HEADERS_TIMEOUT : UpstreamFailure.Kind.TOTAL_TIMEOUT);
    req.send(body).onComplete(ar -> {
      if (finished) return;
      if (ar.failed()) {
        fail(UpstreamFailure.connect(ar.cause()));
        return;
      }
      onResponse(ar.result());
    });
  }

  private void onResponse(HttpClientResponse resp) {
    this.response = resp;
    int status = resp.statusCode();
    if (status < 200 || status > 299) {
      readBounded(resp, MAX_ERROR_BODY, body -> {
        // A 5xx whose body is not JSON at all is an HTML page from a proxy or load balancer in front of the provider:
        // a malformed response (502 upstream_bad_response), not the provider's own status. Still retryable.
        if (status >= 500 && isErrorPage(body)) {
          fail(UpstreamFailure.of(UpstreamFailure.Kind.BAD_RESPONSE, "upstream sent a non-JSON error page"));
        } else {
          fail(UpstreamFailure.status(status, ErrorBodies.normalise(body), retryAfterMillis(resp.headers())));
        }
      });
      return;
    }
    if (!stream) {
      readBounded(resp, MAX_JSON_BODY, body -> {
        try {
          JsonObject json = StrictJson.parseObject(body);
          JsonObject translated = dialect == null ? json : dialect.onBody(json);
          finish();
          promise.tryComplete(new UpstreamReply.Json(status, resp.headers(),
              translated == json ? body : translated.toBuffer(), translated));
        } catch (JsonProblem e) {
          fail(UpstreamFailure.of(UpstreamFailure.Kind.BAD_RESPONSE, "upstream JSON is malformed"));
        } catch (UpstreamFailure e) {
          fail(e);
        }
      });
      return;
    }
    String contentType = resp.getHeader("content-type");
    if (contentType != null && contentType.contains("json")) {
      // A server that ignored stream:true, or an error sent as JSON with 200: either way not a usable stream.
      readBounded(resp, MAX_ERROR_BODY, body -> fail(UpstreamFailure.of(UpstreamFailure.Kind.BAD_RESPONSE, "expected an event stream")));
      return;
    }
    cancelTimer();
    arm(timeouts.firstToken().toMillis(), UpstreamFailure.Kind.FIRST_TOKEN_TIMEOUT);
    parser = new SseParser(resp, this);
    parser.exceptionHandler(e -> fail(UpstreamFailure.of(e instanceof IllegalStateException
        ? UpstreamFailure.Kind.BAD_RESPONSE : UpstreamFailure.Kind.STREAM_EOF, "upstream stream broke")));
    parser.endHandler(v -> {
      // A translated end still queued behind a paused client is a complete stream, not an EOF.
      if (pending.isEmpty() || !pending.peekLast().isDone()) {
        fail(UpstreamFailure.of(UpstreamFailure.Kind.STREAM_EOF, "upstream stream ended without [DONE]"));
      }
    });
  }

  private void readBounded(HttpClientResponse resp, int limit, Handler<Buffer> onBody) {
    Buffer body = Buffer.buffer();
    resp.handler(chunk -> {
      if (finished) return;
      if (body.length() + chunk.length() > limit) {
        fail(UpstreamFailure.of(UpstreamFailure.Kind.BAD_RESPONSE, "upstream body exceeds " + limit + " bytes"));
        return;
      }
      body.appendBuffer(chunk);
    });
    resp.exceptionHandler(e -> fail(UpstreamFailure.of(UpstreamFailure.Kind.BAD_RESPONSE, "upstream body interrupted")));
    resp.endHandler(v -> {
      if (!finished) onBody.handle(body);
    });
  }

  @Override
  public void onEvent(String event, String data) {
    if (finished) return;
    if ("[DONE]".equals(data)) {
      onDone();
      return;
    }
    JsonObject json;
    try {
      json = StrictJson.parseObject(data);
    } catch (JsonProblem e) {
      fail(UpstreamFailure.of(UpstreamFailure.Kind.BAD_RESPONSE, "malformed stream event"));
      return;
    }
    if (json.getValue("error") != null || "error".equals(event)) {
      fail(UpstreamFailure.streamError(json.getValue("error") instanceof JsonObject e ? e : json));
      return;
    }
    if (dialect == null) {
      deliver(new ChatChunk(data, json));
      return;
    }
    try {
      dialect.onEvent(event, data, json, pending::add);
    } catch (UpstreamFailure e) {
      pending.clear();
      fail(e);
      return;
    }
    drain();
  }

  /** Delivers queued chunks until the queue is empty, the stream ends, or delivery must wait (commit, pause). */
  private void drain() {
    while (!finished && !pending.isEmpty() && !(committed && (paused || chunkHandler == null))) {
      ChatChunk chunk = pending.poll();
      if (chunk.isDone()) {
        onDone();
      } else {
        deliver(chunk);
      }
    }
  }

  private void onDone() {
    if (!committed) {
      fail(UpstreamFailure.of(UpstreamFailure.Kind.BAD_RESPONSE, "stream ended before any event"));
    } else if (!sawFinishReason) {
      fail(UpstreamFailure.of(UpstreamFailure.Kind.STREAM_EOF, "[DONE] without a finish reason"));
    } else {
      finish();
      if (chunkHandler != null) chunkHandler.handle(ChatChunk.DONE);
      if (endHandler != null) endHandler.handle(null);
    }
  }

  private void deliver(ChatChunk chunk) {
    JsonObject json = chunk.json();
    if (json.getValue("choices") instanceof JsonArray choices) {
      for (int i = 0; i < choices.size(); i++) {
        if (choices.getValue(i) instanceof JsonObject c && c.getValue("finish_reason") != null) sawFinishReason = true;
      }
    }
    lastDataNanos = System.nanoTime();
    if (!committed) {
      committed = true;
      cancelTimer();
      pause();
      promise.tryComplete(new UpstreamReply.Stream(response.statusCode(), response.headers(), chunk, this));
      return;
    }
    if (chunkHandler != null) chunkHandler.handle(chunk);
  }

  @Override
  public void onComment() {
    // Comments (": ping") keep connections warm but are not progress: they never reset the idle timer.
  }

  private void arm(long delayMs, UpstreamFailure.Kind kind) {
    timer = vertx.setTimer(delayMs, id -> {
      timer = -1;
      if (finished) return;
      fail(UpstreamFailure.of(kind, "upstream " + kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')));
    });
  }

  private void armIdle() {
    if (finished || paused || timer != -1) return;
    long idleNanos = timeouts.idle().toNanos();
    long remaining = idleNanos - (System.nanoTime() - lastDataNanos);
    timer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)), id -> {
      timer = -1;
      if (finished || paused) return;
      if (System.nanoTime() - lastDataNanos >= idleNanos) {
        fail(UpstreamFailure.of(UpstreamFailure.Kind.IDLE_TIMEOUT, "upstream stream stalled"));
      } else {
        armIdle();
      }
    });
  }

  private void cancelTimer() {
    if (timer != -1) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void finish() {
    finished = true;
    cancelTimer();
  }

  void fail(UpstreamFailure failure) {
    if (finished) return;
    finish();
    if (request != null) request.reset();
    if (!committed) {
      promise.tryFail(failure);
    } else if (failureHandler != null) {
      failureHandler.handle(failure);
    }
  }

  /** A non-blank body that cannot be a JSON object (an empty 503 body is left to the status mapping). */
  private static boolean isErrorPage(Buffer body) {
    for (int i = 0; i < body.length(); i++) {
      byte b = body.getByte(i);
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') return b != '{';
    }
    return false;
  }

  static long retryAfterMillis(MultiMap headers) {
    String ms = headers.get("retry-after-ms");
    try {
      if (ms != null) return (long) Double.parseDouble(ms.trim());
      String s = headers.get("retry-after");
      if (s != null) return (long) (Double.parseDouble(s.trim()) * 1000);
    } catch (NumberFormatException e) {
      return -1; // HTTP-date forms are rare from LLM providers; treat as absent
    }
    return -1;
  }

  @Override
  public ChunkStream handler(Handler<ChatChunk> handler) {
    this.chunkHandler = handler;
    return this;
  }

  @Override
  public ChunkStream endHandler(Handler<Void> handler) {
    this.endHandler = handler;
    return this;
  }

  @Override
  public ChunkStream failureHandler(Handler<UpstreamFailure> handler) {
    this.failureHandler = handler;
    return this;
  }

  @Override
  public void pause() {
    paused = true;
    if (committed) cancelTimer();
    if (parser != null) parser.pause();
  }

  @Override
  public void resume() {
    if (finished) return;
    paused = false;
    if (committed) {
      // Time spent paused by a slow client is not upstream silence: the idle window restarts.
      lastDataNanos = System.nanoTime();
      armIdle();
    }
    drain();
    if (parser != null && !paused && !finished) parser.resume();
  }

  @Override
  public void cancel() {
    if (finished) return;
    finish();
    if (request != null) request.reset();
    promise.tryFail(UpstreamFailure.of(UpstreamFailure.Kind.CANCELLED, "client went away"));
  }
}
