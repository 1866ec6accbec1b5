package dev.sluice.upstream;

import dev.sluice.config.ProviderConfig;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;

/**
 * The HTTP side shared by the HTTP providers (OpenAI, Azure, Anthropic): one pooled client per event loop holding
 * this loop's share of the provider's connections, with a bounded wait queue so overload is a fast 503, not a
 * silent queue. Each {@link #post} is one {@link HttpAttempt}.
 */
final class UpstreamClient {
  private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
  private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream");

  private final Vertx vertx;
  private final ProviderConfig config;
  private final HttpClientAgent client;
  private final String host;
  private final int port;
  private final boolean ssl;
  private final String basePath;

  /** @param share how many instances split the provider's pool (one per event loop) */
  UpstreamClient(Vertx vertx, ProviderConfig config, int share) {
    this.vertx = vertx;
    this.config = config;
    URI uri = config.uri();
    this.ssl = "https".equals(uri.getScheme());
    this.host = uri.getHost();
    this.port = uri.getPort() > 0 ? uri.getPort() : (ssl ? 443 : 80);
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    int divisor = Math.max(1, share);
    HttpClientOptions options = new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_1_1)
        .setKeepAlive(true)
        .setTcpNoDelay(true)
        .setVerifyHost(true)
        .setTrustAll(false)
        .setConnectTimeout((int) config.timeouts().connect().toMillis())
        .setMaxRedirects(0);
    PoolOptions pool = new PoolOptions()
        .setHttp1MaxSize(Math.max(1, ceilDiv(config.maxConnections(), divisor)))
        .setMaxWaitQueueSize(Math.max(0, ceilDiv(config.maxWaitQueue(), divisor)));
    this.client = vertx.createHttpClient(options, pool);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /**
   * One attempt: POSTs {@code body} to the base URL's path + {@code pathAndQuery} with the client's allow-listed
   * headers, JSON content type and accept, then {@code auth} (credentials set last, so a client header never
   * replaces them).
   */
  Future<UpstreamReply> post(UpstreamRequest request, String pathAndQuery, Buffer body,
                             java.util.function.Consumer<MultiMap> auth, HttpAttempt.Dialect dialect) {
    HttpAttempt attempt = new HttpAttempt(vertx, request.timeoutsOr(config.timeouts()), request.stream(), dialect);
    request.cancellation().onCancel(attempt::cancel);
    if (attempt.isFinished()) return attempt.future();
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost(host)
        .setPort(port)
        .setSsl(ssl)
        .setURI(basePath + pathAndQuery)
        .setFollowRedirects(false)
        .setConnectTimeout(request.timeoutsOr(config.timeouts()).connect().toMillis());
    MultiMap headers = options.getHeaders() == null ? MultiMap.caseInsensitiveMultiMap() : options.getHeaders();
    headers.addAll(request.headers());
    headers.set(HttpHeaders.CONTENT_TYPE, JSON);
    headers.set(HttpHeaders.ACCEPT, request.stream() ? EVENT_STREAM : JSON);
    auth.accept(headers);
    options.setHeaders(headers);
    client.request(options).onComplete(ar -> {
      if (ar.failed()) {
        Throwable cause = ar.cause();
        // Vert.x bounds the wait for a pooled connection by the connect timeout and reports it as a TimeoutException
        // (a refused or unreachable host is a ConnectException instead): both mean "no connection for you now".
        attempt.fail(cause instanceof ConnectionPoolTooBusyException || cause instanceof java.util.concurrent.TimeoutException
            ? UpstreamFailure.of(UpstreamFailure.Kind.POOL_FULL, "upstream connection pool is full")
            : UpstreamFailure.connect(cause));
      } else {
        attempt.start(ar.result(), body);
      }
    });
    return attempt.future();
  }

  Future<Void> close() {
    return client.close();
  }
}
