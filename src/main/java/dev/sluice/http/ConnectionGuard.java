package dev.sluice.http;

import dev.sluice.config.ServerConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-connection rules that must hold before a request reaches Vert.x: read deadlines for headers and bodies (408 in
 * the OpenAI envelope, then close), an idle keep-alive limit, unambiguous framing (no Content-Length together with
 * Transfer-Encoding, no Transfer-Encoding but {@code chunked}: 400 and close, and nothing after it on the connection is
 * answered), a Host header, well-formed percent-encoding, well-formed chunks, and the per-address connection cap.
 *
 * <p>It sits in the Netty pipeline right after Vert.x's HTTP/1.x codec, so it sees decoded requests and outgoing
 * responses; a small watcher before the decoder notices the first byte of a new request. Reaching the pipeline uses
 * Vert.x's {@code ConnectionBase} and request decoder (not public API): if a Vert.x upgrade breaks that,
 * {@link #install} logs an error and the listener runs without these rules, and HttpFramingTest and SlowClientTest
 * fail.
 */
public final class ConnectionGuard extends ChannelDuplexHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);

  /** Where the connection is in its request/response cycle; decides which deadline runs. */
  private enum Phase { HEADERS, BODY, WAITING, IDLE }

  private final ServerConfig config;
  private final ClientLimits limits;
  /** The address this connection is counted under in {@link ClientLimits}, or null once released (or never counted). */
  private String countedAddress;
  private ChannelHandlerContext ctx;
  private Phase phase = Phase.HEADERS;
  private int requests;
  private int responsesStarted;
  private int responsesDone;
  private boolean rejected;
  private ScheduledFuture<?> headerTimer;
  private ScheduledFuture<?> bodyIdleTimer;
  private ScheduledFuture<?> bodyTimer;
  private ScheduledFuture<?> keepAliveTimer;

  private ConnectionGuard(ServerConfig config, ClientLimits limits, String countedAddress) {
    this.config = config;
    this.limits = limits;
    this.countedAddress = countedAddress;
  }

  /** Adds the guard to a new HTTP/1.x connection of the client listener (called from its connection handler). */
  public static void install(HttpConnection connection, ServerConfig config, ClientLimits limits,
                             HttpServerOptions options) {
    if (!(connection instanceof ConnectionBase base)) {
      LOG.error("connection guard not installed: unexpected connection type {}", connection.getClass().getName());
      return;
    }
    ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
    if (pipeline.get("httpDecoder") == null || pipeline.get("httpEncoder") == null) {
      LOG.error("connection guard not installed: no HTTP/1.x codec in the pipeline {}", pipeline.names());
      return;
    }
    // Netty drops Content-Length when Transfer-Encoding is present; this decoder keeps both so the request is refused.
    pipeline.replace("httpDecoder", "httpDecoder", new FramingKeepingDecoder(options));
    SocketAddress remote = pipeline.channel().remoteAddress();
    String address = remote instanceof InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress().getHostAddress() : String.valueOf(remote);
    boolean admitted = limits.openConnection(address, config.maxConnectionsPerAddress());
    ConnectionGuard guard = new ConnectionGuard(config, limits, admitted ? address : null);
    pipeline.addAfter("httpEncoder", "sluice-guard", guard);
    pipeline.addBefore("httpDecoder", "sluice-first-byte", new FirstByteWatcher(guard));
    pipeline.channel().closeFuture().addListener(f -> guard.closed());
    if (!admitted) {
      guard.reject(HttpResponseStatus.TOO_MANY_REQUESTS, "requests", "too_many_connections",
          "Too many open connections from your address.");
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    headerTimer = schedule(config.headerTimeout().toMillis(), this::headersTimedOut);
  }

  private void closed() {
    cancelAll();
    if (countedAddress != null) limits.closeConnection(countedAddress);
    countedAddress = null;
  }

  /** Bytes arrived from the client (before decoding): on an idle connection they start the next request's head. */
  private void bytesArrived() {
    if (phase != Phase.IDLE || rejected) return;
    phase = Phase.HEADERS;
    cancel(keepAliveTimer);
    headerTimer = schedule(config.headerTimeout().toMillis(), this::headersTimedOut);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (rejected) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest request) {
      requests++;
      cancel(headerTimer);
      cancel(keepAliveTimer);
      // A head the decoder refused is answered by Vert.x's invalid-request handler.
      if (request.decoderResult().isSuccess() && request.protocolVersion().majorVersion() != 1) {
        // e.g. an HTTP/2 prior-knowledge preface: HTTP/2 ends at the proxy, this listener speaks HTTP/1.x only
        ReferenceCountUtil.release(msg);
        reject(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "invalid_request_error", "http_version_not_supported",
            "Only HTTP/1.1 is served here.");
        return;
      }
      if (request.decoderResult().isSuccess()) {
        String problem = problem(request);
        if (problem != null) {
          ReferenceCountUtil.release(msg);
          reject(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", "invalid_request", problem);
          return;
        }
      }
      boolean hasBody = request.decoderResult().isSuccess()
          && (HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0);
      if (hasBody && !(msg instanceof LastHttpContent)) {
        phase = Phase.BODY;
        bodyTimer = schedule(config.bodyTimeout().toMillis(), this::bodyTimedOut);
        bodyIdleTimer = schedule(config.bodyIdleTimeout().toMillis(), this::bodyTimedOut);
      } else {
        phase = Phase.WAITING;
      }
    }
    if (msg instanceof HttpContent content && phase == Phase.BODY) {
      if (content.decoderResult().isFailure()) {
        // e.g. a chunk size that is not hex: the body cannot be trusted, and neither can anything after it
        ReferenceCountUtil.release(msg);
        reject(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", "invalid_request",
            "Malformed chunked request body.");
        return;
      }
      cancel(bodyIdleTimer);
      if (msg instanceof LastHttpContent) {
        cancel(bodyTimer);
        phase = Phase.WAITING;
      } else {
        bodyIdleTimer = schedule(config.bodyIdleTimeout().toMillis(), this::bodyTimedOut);
      }
    }
    if (phase == Phase.WAITING && responsesDone == requests) idle();
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpResponse response && response.status().code() >= 200) responsesStarted++;
    if (msg instanceof LastHttpContent && responsesDone < responsesStarted) {
      responsesDone++;
      if (phase == Phase.WAITING && responsesDone == requests) idle();
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed();
    ctx.fireChannelInactive();
  }

  /** Why a request head is refused, or null. */
  private static String problem(HttpRequest request) {
    List<String> te = request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (!te.isEmpty()) {
      if (request.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
        return "Content-Length and Transfer-Encoding must not both be present.";
      }
      if (te.size() != 1 || !te.get(0).trim().equalsIgnoreCase("chunked")) {
        return "Unsupported Transfer-Encoding (only 'chunked' is accepted).";
      }
    }
    if (request.protocolVersion().equals(HttpVersion.HTTP_1_1) && !request.headers().contains(HttpHeaderNames.HOST)) {
      return "Missing Host header.";
    }
    if (!wellFormedPercentEncoding(request.uri())) return "Malformed percent-encoding in the request URI.";
    return null;
  }

  static boolean wellFormedPercentEncoding(String uri) {
    for (int i = 0; i < uri.length(); i++) {
      if (uri.charAt(i) != '%') continue;
      if (i + 2 >= uri.length() || Character.digit(uri.charAt(i + 1), 16) < 0 || Character.digit(uri.charAt(i + 2), 16) < 0) {
        return false;
      }
      i += 2;
    }
    return true;
  }

  private void idle() {
    if (phase == Phase.IDLE) return;
    phase = Phase.IDLE;
    keepAliveTimer = schedule(config.keepAliveTimeout().toMillis(), () -> ctx.close());
  }

  private void headersTimedOut() {
    if (phase != Phase.HEADERS || rejected) return;
    reject(HttpResponseStatus.REQUEST_TIMEOUT, "invalid_request_error", "request_timeout",
        "The request headers did not arrive in time.");
  }

  private void bodyTimedOut() {
    if (phase != Phase.BODY || rejected) return;
    reject(HttpResponseStatus.REQUEST_TIMEOUT, "invalid_request_error", "request_timeout",
        "The request body did not arrive in time.");
  }

  /**
   * Answers with the envelope when no other response is pending or started on this connection (otherwise the bytes
   * would interleave with it), then closes; whatever the client sends afterwards is dropped unread.
   */
  private void reject(HttpResponseStatus status, String type, String code, String message) {
    rejected = true;
    cancelAll();
    boolean canAnswer = responsesStarted == responsesDone && responsesDone >= requests - 1;
    if (!canAnswer) {
      ctx.close();
      return;
    }
    ByteBuf body = Unpooled.wrappedBuffer(ErrorResponder.envelope(
        new ApiError(status.code(), type, code, null, message, -1, false)).toBuffer().getBytes());
    DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
        .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
        .set(HttpHeaderNames.CONNECTION, "close")
        .set("x-should-retry", "false")
        .set("x-request-id", RequestIds.generate());
    responsesStarted++;
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  private ScheduledFuture<?> schedule(long millis, Runnable task) {
    return ctx.executor().schedule(task, millis, TimeUnit.MILLISECONDS);
  }

  private void cancelAll() {
    cancel(headerTimer);
    cancel(bodyTimer);
    cancel(bodyIdleTimer);
    cancel(keepAliveTimer);
  }

  private static void cancel(ScheduledFuture<?> timer) {
    if (timer != null) timer.cancel(false);
  }

  /** Vert.x's request decoder, except that a head with both Content-Length and Transfer-Encoding keeps both headers. */
  private static final class FramingKeepingDecoder extends VertxHttpRequestDecoder {
    FramingKeepingDecoder(HttpServerOptions options) {
      super(options);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      // keep Content-Length: the guard refuses the request (the default removes it and reads the body as chunked)
    }
  }

  /** Before the decoder: tells the guard that bytes arrived, so an idle connection's next head gets a deadline. */
  private static final class FirstByteWatcher extends ChannelInboundHandlerAdapter {
    private final ConnectionGuard guard;

    FirstByteWatcher(ConnectionGuard guard) {
      this.guard = guard;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (guard.rejected) {
        ReferenceCountUtil.release(msg);
        return;
      }
      guard.bytesArrived();
      ctx.fireChannelRead(msg);
    }
  }
}
