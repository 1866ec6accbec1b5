package dev.sluice.http;

import dev.sluice.upstream.ChatChunk;
import dev.sluice.upstream.ChunkStream;
import dev.sluice.upstream.UpstreamFailure;
import dev.sluice.upstream.UpstreamReply;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * Relays a committed stream to the client: writes each event as it arrives (no coalescing), pauses the upstream
 * while the client's write queue is full, sends {@code : ping} after keep-alive silence, strips the usage chunk and
 * every chunk's {@code usage} member when the client did not ask for usage, and ends a broken stream with a
 * {@code stream_interrupted} error event, no {@code [DONE]} and no final empty chunk: the connection is closed, so a
 * client that ignores error events still sees a failed response. A client disconnect resets the upstream.
 */
final class StreamRelay {
  private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");
  private static final Buffer PING = Buffer.buffer(": ping\n\n");
  /** The HTTP/2 RST_STREAM code for a stream the server could not complete (ignored by HTTP/1.1, which closes). */
  private static final long HTTP2_INTERNAL_ERROR = 0x2;
  private static final int MAX_COUNTED_CHARS = 4 * 1024 * 1024;
  private static final byte[] DATA_PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EVENT_END = "\n\n".getBytes(StandardCharsets.US_ASCII);

  private final Vertx vertx;
  private final Exchange exchange;
  private final HttpServerResponse response;
  private final ChunkStream upstream;
  private final long keepaliveNanos;
  private long lastWriteNanos;
  private long pingTimer = -1;
  private long stallTimer = -1;
  private boolean done;

  private StreamRelay(Vertx vertx, Exchange exchange, ChunkStream upstream) {
    this.vertx = vertx;
    this.exchange = exchange;
    this.response = exchange.response;
    this.upstream = upstream;
    this.keepaliveNanos = exchange.state.config().server().sseKeepalive().toNanos();
  }

  static void start(Vertx vertx, Exchange exchange, UpstreamReply.Stream reply) {
    new StreamRelay(vertx, exchange, reply.rest()).run(reply);
  }

  private void run(UpstreamReply.Stream reply) {
    response.setStatusCode(200);
    response.putHeader("content-type", "text/event-stream; charset=utf-8");
    response.putHeader("cache-control", "no-cache");
    response.putHeader("x-accel-buffering", "no");
    CompletionsHandler.gatewayHeaders(exchange, reply.headers());
    response.setChunked(true);
    exchange.firstByteNanos = System.nanoTime();
    onChunk(reply.first());
    exchange.cancellation.onCancel(this::onClientGone);
    upstream.handler(this::onChunk);
    upstream.failureHandler(this::onFailure);
    upstream.endHandler(v -> { });
    schedulePing();
    upstream.resume();
  }

  private void onChunk(ChatChunk chunk) {
    if (done) return;
    if (chunk.isDone()) {
      if (exchange.cacheWrite != null) exchange.cacheWrite.onStreamComplete();
      done = true;
      cancelPing();
      response.end(DONE);
      exchange.settle(200, "ok");
      return;
    }
    JsonObject usage = chunk.usage();
    if (usage != null) exchange.usage = usage;
    if (exchange.cacheWrite != null) exchange.cacheWrite.onChunk(chunk.json());
    collectText(chunk);
    if (chunk.isUsageOnly() && !exchange.clientWantsUsage) return;
    String payload = exchange.clientWantsUsage || !chunk.json().containsKey("usage") ? chunk.data() : withoutUsage(chunk.json());
    byte[] data = payload.getBytes(StandardCharsets.UTF_8);
    Buffer event = Buffer.buffer(data.length + 8).appendBytes(DATA_PREFIX).appendBytes(data).appendBytes(EVENT_END);
    write(event);
  }

  /**
   * The chunk without its {@code usage} member. The gateway always asks the provider for usage, so upstream chunks carry
   * {@code "usage": null} (or running totals); OpenAI omits the member when the client did not ask.
   */
  private static String withoutUsage(JsonObject json) {
    JsonObject copy = new JsonObject(new java.util.LinkedHashMap<>(json.getMap()));
    copy.remove("usage");
    return copy.encode();
  }

  /** Keeps the streamed text (bounded) so a stream that ends without usage can still be billed by count. */
  private void collectText(ChatChunk chunk) {
    if (exchange.usage != null || !(chunk.json().getValue("choices") instanceof io.vertx.core.json.JsonArray choices)) return;
    if (exchange.streamedText == null) exchange.streamedText = new StringBuilder();
    if (exchange.streamedText.length() > MAX_COUNTED_CHARS) return;
    for (Object c : choices) {
      if (c instanceof JsonObject choice && choice.getValue("delta") instanceof JsonObject delta) {
        if (delta.getValue("content") instanceof String text) exchange.streamedText.append(text);
        if (delta.getValue("tool_calls") instanceof io.vertx.core.json.JsonArray calls) exchange.streamedText.append(calls.encode());
      }
    }
  }

  private void write(Buffer event) {
    lastWriteNanos = System.nanoTime();
    response.write(event);
    if (response.writeQueueFull() && stallTimer == -1) {
      upstream.pause();
      // A client that stops reading altogether must not pin the upstream (and its slot) forever.
      stallTimer = vertx.setTimer(exchange.state.config().server().clientWriteTimeout().toMillis(), id -> {
        stallTimer = -1;
        if (done) return;
        exchange.cancellation.cancel(); // upstream reset and settlement, as for a disconnect
        response.reset();
      });
      response.drainHandler(v -> {
        if (stallTimer != -1) {
          vertx.cancelTimer(stallTimer);
          stallTimer = -1;
        }
        if (!done) upstream.resume();
      });
    }
  }

  private void onFailure(UpstreamFailure failure) {
    if (done) return;
    done = true;
    cancelPing();
    String reason = switch (failure.kind()) {
      case IDLE_TIMEOUT -> "the upstream provider stopped sending data";
      case BAD_RESPONSE -> "the upstream provider sent a malformed event";
      case STREAM_ERROR -> "the upstream provider reported an error";
      default -> "the upstream connection ended before the response was complete";
    };
    JsonObject error = new JsonObject().put("error", new JsonObject()
        .put("message", "The stream was interrupted: " + reason + ".")
        .put("type", "server_error")
        .putNull("param")
        .put("code", "stream_interrupted"));
    exchange.errorCode = "stream_interrupted";
    exchange.addUpstreamError(failure.cause());
    // No end(): the final empty chunk would tell HTTP clients the response is complete, and those that ignore SSE
    // error events would report success with partial text. Closing once the event is written leaves the body
    // truncated (HTTP/1.1) or reset with INTERNAL_ERROR (HTTP/2): a failed read for every client.
    response.write(Buffer.buffer("data: ").appendBuffer(error.toBuffer()).appendString("\n\n"))
        .onComplete(written -> response.reset(HTTP2_INTERNAL_ERROR));
    exchange.settle(200, "partial_upstream_failure");
  }

  private void onClientGone() {
    if (done) return;
    done = true;
    cancelPing();
    upstream.cancel();
    exchange.settle(499, "client_cancel");
  }

  private void schedulePing() {
    long delayMs = Math.max(1, (keepaliveNanos - (System.nanoTime() - lastWriteNanos)) / 1_000_000);
    pingTimer = vertx.setTimer(delayMs, id -> {
      pingTimer = -1;
      if (done) return;
      if (System.nanoTime() - lastWriteNanos >= keepaliveNanos) write(PING.copy());
      schedulePing();
    });
  }

  private void cancelPing() {
    if (pingTimer != -1) {
      vertx.cancelTimer(pingTimer);
      pingTimer = -1;
    }
  }
}
