package dev.sluice.http;

import dev.sluice.auth.AuthenticatedKey;
import dev.sluice.usage.UsagePublisher;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The client API's handler order: request id → in-flight cap → auth → content type → bounded body → endpoint.
 * Every failure on the way goes through {@link ErrorResponder}; every API request is settled exactly once.
 */
public final class ApiRouter {
  static final String BODY = "sluice.body";

  private final Vertx vertx;
  private final Supplier<GatewayState> state;
  private final UsagePublisher publisher;
  private final AtomicInteger inFlight;
  private final BooleanSupplier ready;
  private final Services services;
  private final Admission admission;
  private final CompletionsHandler completions;
  private final ClientLimits limits;
  /** Exchanges that hold a slot of {@code server.max-in-flight}: only requests whose body has arrived take one. */
  private final java.util.Set<Exchange> holdingSlot = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Exchanges whose body is still arriving, with the tenant whose upload count they hold. */
  private final java.util.Map<Exchange, String> uploading = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * @param inFlight process-wide count of API requests in progress, shared by all event loops
   * @param ready whether the process should receive traffic (false while draining)
   * @param limits process-wide per-tenant upload counts
   */
  public ApiRouter(Vertx vertx, Supplier<GatewayState> state, ProviderSet providers, UsagePublisher publisher,
                   AtomicInteger inFlight, BooleanSupplier ready, Services services, ClientLimits limits) {
    this.vertx = vertx;
    this.limits = limits;
    this.state = state;
    this.publisher = publisher;
    this.inFlight = inFlight;
    this.ready = ready;
    this.services = services;
    this.admission = new Admission(vertx, services);
    this.completions = new CompletionsHandler(vertx, providers, admission, new CacheStep(vertx, services), services);
  }

  public Router router() {
    Router router = Router.router(vertx);
    router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "ok")));
    router.get("/health/ready").handler(this::readiness);
    // Metrics name tenants and their spend: served here only when server.metrics is 'api' (checked per request, so a
    // reload applies); otherwise /metrics is an unknown URL on the public port.
    router.get("/metrics").handler(ctx -> {
      if (state.get().config().server().metricsListener().onApiPort()) metrics(ctx);
      else ctx.next();
    });
    // Body handling is keyed on the method inside the handlers: a POST-only wildcard route would make every GET to
    // an unknown /v1 path a 405 instead of a 404.
    router.route("/v1/*").handler(this::begin).handler(this::authenticate).handler(this::requireJson).handler(this::readBody);
    router.post("/v1/chat/completions").handler(completions::chat);
    router.post("/v1/embeddings").handler(completions::embeddings);
    router.get("/v1/models").handler(this::listModels);
    router.get("/v1/models/:id").handler(this::getModel);
    router.route().failureHandler(this::onFailure);
    router.errorHandler(404, ctx -> fail(ctx, new ApiError(404, "invalid_request_error", "unknown_url", null,
        "Invalid URL (" + ctx.request().method() + " " + safePath(ctx.request()) + ")", -1, false)));
    router.errorHandler(405, ctx -> fail(ctx, new ApiError(405, "invalid_request_error", "method_not_allowed", null,
        "Method " + ctx.request().method() + " is not allowed for " + safePath(ctx.request()) + ".", -1, false)));
    return router;
  }

  private void begin(RoutingContext ctx) {
    String requestId = RequestIds.generate(); // ours, always: it keys leases, settlement and the ledger
    ctx.response().putHeader("x-request-id", requestId);
    String clientId = ctx.request().getHeader("x-client-request-id");
    clientId = RequestIds.client(clientId != null ? clientId : ctx.request().getHeader("x-request-id"));
    if (clientId != null) ctx.response().putHeader("x-client-request-id", clientId);
    Exchange ex = new Exchange(requestId, state.get(), ctx.response(), publisher, this::release, admission);
    ex.clientRequestId = clientId;
    ex.endpoint = endpointOf(ctx.request().path()); // known before auth, so a 401 on chat is logged as chat
    ctx.put(Exchange.KEY, ex);
    ctx.response().closeHandler(v -> {
      ex.cancellation.cancel();
      ex.settle(499, "client_cancel");
    });
    ctx.next();
  }

  /**
   * Takes a slot of the process-wide in-flight cap once the request is complete (its body arrived): a slow upload
   * must not hold a slot that other tenants' ready requests need.
   */
  private void admitAndContinue(RoutingContext ctx) {
    Exchange ex = ctx.get(Exchange.KEY);
    if (ex.isSettled()) return;
    holdingSlot.add(ex);
    if (inFlight.incrementAndGet() > ex.state.config().server().maxInFlight()) {
      ctx.fail(new ApiError(503, "server_error", "overloaded", null,
          "The gateway is at its concurrency limit; please retry shortly.", 1000, null).asFailure());
      return;
    }
    ctx.next();
  }

  /** The bounded endpoint label of an API path: {@code chat}, {@code embeddings}, {@code models} or {@code other}. */
  static String endpointOf(String path) {
    if ("/v1/chat/completions".equals(path)) return "chat";
    if ("/v1/embeddings".equals(path)) return "embeddings";
    if (path != null && (path.equals("/v1/models") || path.startsWith("/v1/models/"))) return "models";
    return "other";
  }

  private void release(Exchange ex) {
    if (holdingSlot.remove(ex)) inFlight.decrementAndGet();
    endUpload(ex);
    if (ex.key != null) services.metrics().requestEnded(ex.key.tenantId());
  }

  private void authenticate(RoutingContext ctx) {
    Exchange ex = ctx.get(Exchange.KEY);
    AuthenticatedKey key = ex.state.tenants().authenticate(presentedKey(ctx.request()));
    if (key == null) {
      ctx.fail(new ApiError(401, "invalid_request_error", "invalid_api_key", null,
          "Incorrect API key provided. You can find your API key in your gateway's tenant configuration.", -1, false).asFailure());
      return;
    }
    ex.key = key;
    services.metrics().requestStarted(key.tenantId());
    ctx.next();
  }

  /** Bearer token, or the Azure-style {@code api-key} / Anthropic-style {@code x-api-key} header. */
  static String presentedKey(HttpServerRequest request) {
    String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return authorization.substring(7).trim();
    }
    String apiKey = request.getHeader("api-key");
    if (apiKey != null) return apiKey.trim();
    String xApiKey = request.getHeader("x-api-key");
    return xApiKey == null ? null : xApiKey.trim();
  }

  private void requireJson(RoutingContext ctx) {
    if (ctx.request().method() != HttpMethod.POST) {
      ctx.next();
      return;
    }
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    // A missing type is accepted as JSON (some HTTP clients omit it); any other type is refused before reading,
    // so form and multipart bodies are never parsed.
    if (type != null && !type.regionMatches(true, 0, "application/json", 0, 16)) {
      ctx.fail(new ApiError(415, "invalid_request_error", "unsupported_media_type", null,
          "Unsupported content type '" + type.replaceAll("[^\\x20-\\x7e]", "?") + "'. Send the body as application/json.",
          -1, false).asFailure());
      return;
    }
    ctx.next();
  }

  /**
   * Reads the body up to {@code server.max-body}; a larger declared or streamed body is a 413 and the connection closes.
   * The buffer grows with the bytes that arrive, never with the length a client declares. At most
   * {@code server.max-uploads-per-tenant} bodies of one tenant are read at once (429 and close beyond it).
   */
  private void readBody(RoutingContext ctx) {
    if (ctx.request().method() != HttpMethod.POST) {
      admitAndContinue(ctx);
      return;
    }
    Exchange ex = ctx.get(Exchange.KEY);
    HttpServerRequest request = ctx.request();
    long limit = ex.state.config().server().maxBody().bytes();
    long declared = -1;
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null) {
      try {
        declared = Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        ctx.fail(ApiError.invalidRequest("invalid_request_error", null, "Invalid Content-Length header.").asFailure());
        return;
      }
    }
    if (declared > limit) {
      tooLarge(ctx, limit);
      return;
    }
    String tenant = ex.key.tenantId();
    if (!limits.startUpload(tenant, ex.state.config().server().maxUploadsPerTenant())) {
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      ctx.fail(new ApiError(429, "requests", "too_many_uploads", null,
          "Too many requests of this tenant are still sending their body; please retry shortly.", 1000, null).asFailure());
      return;
    }
    uploading.put(ex, tenant);
    Runnable uploadDone = () -> endUpload(ex);
    Buffer body = Buffer.buffer();
    boolean[] rejected = {false};
    request.handler(chunk -> {
      if (rejected[0]) return;
      if (body.length() + chunk.length() > limit) {
        rejected[0] = true;
        uploadDone.run();
        tooLarge(ctx, limit);
        return;
      }
      body.appendBuffer(chunk);
    });
    request.exceptionHandler(e -> {
      uploadDone.run();
      if (!rejected[0]) ex.cancellation.cancel();
    });
    request.endHandler(v -> {
      uploadDone.run();
      if (rejected[0] || ex.isSettled()) return;
      ctx.put(BODY, body);
      admitAndContinue(ctx);
    });
    request.resume();
  }

  /** Gives back the upload slot, if the exchange still holds one (body ended, failed, or the exchange settled). */
  private void endUpload(Exchange ex) {
    String tenant = uploading.remove(ex);
    if (tenant != null) limits.endUpload(tenant);
  }

  private void tooLarge(RoutingContext ctx, long limit) {
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    ctx.fail(new ApiError(413, "invalid_request_error", "request_too_large", null,
        "Request body too large: the limit is " + limit + " bytes.", -1, false).asFailure());
  }

  private void listModels(RoutingContext ctx) {
    Exchange ex = ctx.get(Exchange.KEY);
    JsonArray data = new JsonArray();
    for (String alias : ex.state.router().aliasesFor(ex.key.tenant(), ex.state.config().models().keySet())) {
      data.add(model(ex, alias));
    }
    ex.endpoint = "models";
    json(ctx, 200, new JsonObject().put("object", "list").put("data", data));
    ex.settle(200, "ok");
  }

  private void getModel(RoutingContext ctx) {
    Exchange ex = ctx.get(Exchange.KEY);
    ex.endpoint = "models";
    String id = ctx.pathParam("id");
    ex.state.router().resolve(ex.key.tenant(), id);
    json(ctx, 200, model(ex, id));
    ex.settle(200, "ok");
  }

  private static JsonObject model(Exchange ex, String alias) {
    return new JsonObject().put("id", alias).put("object", "model").put("created", ex.state.createdEpochSeconds())
        .put("owned_by", "sluice");
  }

  private void metrics(RoutingContext ctx) {
    MetricsEndpoint.scrape(services.metrics().registry(), ctx.response());
  }

  /**
   * Ready once the config is loaded, the listener is up and, when Redis is configured, its connections and scripts are
   * ready; a Redis unreachable since start keeps the replica unready only when some tenant is fail-closed.
   */
  private void readiness(RoutingContext ctx) {
    GatewayState current = state.get();
    dev.sluice.redis.RedisHealth redis = services.redisHealth();
    boolean failClosed = current != null && current.config().tenants().stream()
        .anyMatch(t -> t.onRedisFailure() == dev.sluice.config.RedisFailurePolicy.FAIL_CLOSED);
    boolean draining = !ready.getAsBoolean();
    boolean ok = !draining && current != null && redis.allowsTraffic(failClosed);
    JsonObject body = new JsonObject().put("status", ok ? "ready" : draining ? "draining" : "starting")
        .put("config_version", current == null ? null : current.version())
        .put("redis", redis.state().wireName());
    if (redis.roundTripMillis() >= 0) body.put("redis_rtt_ms", redis.roundTripMillis());
    json(ctx, ok ? 200 : 503, body);
  }

  private void onFailure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    ApiError error = failure != null ? ErrorResponder.toApiError(failure)
        : new ApiError(ctx.statusCode() > 0 ? ctx.statusCode() : 500, "invalid_request_error", null, null,
            "The request could not be processed.", -1, null);
    fail(ctx, error);
  }

  private void fail(RoutingContext ctx, ApiError error) {
    Exchange ex = ctx.get(Exchange.KEY);
    // The close hook must be installed before the response ends: endHandler() on an ended response throws.
    if ((error.status() == 413 || "close".equals(ctx.response().headers().get(HttpHeaders.CONNECTION)))
        && !ctx.response().ended()) ctx.response().endHandler(v -> ctx.request().connection().close());
    if (ex != null) CompletionsHandler.errorHeaders(ex);
    ErrorResponder.write(ctx.response(), error);
    if (ex != null) {
      ex.errorCode = error.code();
      ex.settle(error.status(), ex.attempts > 0 ? "upstream_error" : "rejected");
    }
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
  }

  private static String safePath(HttpServerRequest request) {
    String path = request.path() == null ? "" : request.path();
    return (path.length() > 128 ? path.substring(0, 128) : path).replaceAll("[^\\x21-\\x7e]", "?");
  }

  /** Vert.x calls this for requests its decoder refused (oversized headers or request line, bad framing). */
  public static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    String name = cause == null ? "" : cause.getClass().getSimpleName();
    ApiError error = name.contains("TooLongHttpHeader") || name.contains("TooLongFrame")
        ? new ApiError(431, "invalid_request_error", "request_header_fields_too_large", null,
            "Request header fields too large.", -1, false)
        : name.contains("TooLongHttpLine") || name.contains("TooLongUri")
            ? new ApiError(414, "invalid_request_error", "uri_too_long", null, "Request URI too long.", -1, false)
            : ApiError.invalidRequest("invalid_request_error", null, "Malformed HTTP request.");
    request.response().putHeader(HttpHeaders.CONNECTION, "close").putHeader("x-request-id", RequestIds.generate());
    request.response().endHandler(v -> request.connection().close());
    ErrorResponder.write(request.response(), error);
  }

}
