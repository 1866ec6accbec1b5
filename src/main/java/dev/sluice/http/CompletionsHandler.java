package dev.sluice.http;

import dev.sluice.cache.CachedResponse;
import dev.sluice.cache.SseReplay;
import dev.sluice.config.Deployment;
import dev.sluice.json.StrictJson;
import dev.sluice.routing.AttemptLoop;
import dev.sluice.routing.Delivery;
import dev.sluice.routing.Route;
import dev.sluice.routing.RouteFailure;
import dev.sluice.upstream.Endpoint;
import dev.sluice.upstream.UpstreamReply;
import dev.sluice.upstream.UpstreamRequest;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.LinkedHashMap;

/**
 * {@code POST /v1/chat/completions} and {@code POST /v1/embeddings}: the request pipeline after auth and body
 * limits. Steps: parse → route → admission → cache → attempts to the commit point → respond → settle.
 */
final class CompletionsHandler {
  private final Vertx vertx;
  private final ProviderSet providers;
  private final AttemptLoop attempts;

  private final Admission admission;
  private final CacheStep cache;

  CompletionsHandler(Vertx vertx, ProviderSet providers, Admission admission, CacheStep cache, Services services) {
    this.attempts = new AttemptLoop(vertx, services.health(), services.retriesInFlight(),
        services.requestsInFlight()::get, () -> services.clock().millis());
    this.admission = admission;
    this.cache = cache;
    this.vertx = vertx;
    this.providers = providers;
  }

  void chat(RoutingContext ctx) {
    handle(ctx, Endpoint.CHAT_COMPLETIONS);
  }

  void embeddings(RoutingContext ctx) {
    handle(ctx, Endpoint.EMBEDDINGS);
  }

  private void handle(RoutingContext ctx, Endpoint endpoint) {
    Exchange ex = ctx.get(Exchange.KEY);
    ex.endpoint = endpoint.label();
    Buffer raw = ctx.get(ApiRouter.BODY);
    JsonObject body = StrictJson.parseObject(raw);
    RequestView view = endpoint == Endpoint.EMBEDDINGS ? RequestView.embeddings(body) : RequestView.chat(body);
    ex.stream = view.stream();
    ex.clientWantsUsage = view.includeUsage();
    Route route = ex.state.router().resolve(ex.key.tenant(), view.model());
    ex.alias = route.alias(); // only a configured alias reaches logs and metric labels
    // Admission (context guard, rate limits, concurrency, budget), then the response cache, then the provider.
    admission.admit(ex, route, body, view, endpoint, raw.length()).onComplete(ar -> {
      if (ex.isSettled()) return; // the client left while we were deciding
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        cache.run(ctx, ex, body, endpoint, () -> forward(ctx, ex, route, endpoint, body, view), hit -> serveCached(ex, hit, view));
      }
    });
  }

  private void forward(RoutingContext ctx, Exchange ex, Route route, Endpoint endpoint, JsonObject body, RequestView view) {
    MultiMap headers = HeaderPolicy.toUpstream(ctx.request().headers());
    ex.upstreamSendNanos = System.nanoTime();
    attempts.execute(route,
        name -> providers.get(name, ex.state.config().providers().get(name)),
        deployment -> {
          ex.attempts++;
          ex.provider = deployment.provider();
          ex.upstreamModel = deployment.model();
          return new UpstreamRequest(endpoint, deployment.model(), upstreamBody(body, deployment, view), view.stream(),
              headers, ex.cancellation, deployment.timeouts());
        }, ex.cancellation)
        .onComplete(ar -> {
          if (ex.isSettled()) return; // client went away meanwhile
          if (ar.failed()) {
            if (ar.cause() instanceof RouteFailure routeFailure) {
              ex.unbilled = routeFailure.unbilled();
              ex.upstreamErrors = routeFailure.upstreamErrors();
            }
            if (ex.cacheWrite != null) ex.cacheWrite.onFailure(ar.cause());
            ctx.fail(ar.cause());
            return;
          }
          ex.upstreamCommitNanos = System.nanoTime();
          try {
            respond(ex, ar.result(), view);
          } catch (RuntimeException bug) {
            // never leave a client hanging on our own bug: answer (if nothing was sent yet) and free the upstream
            ex.cancellation.cancel();
            ctx.fail(bug);
          }
        });
  }

  /** A shallow copy addressed to the deployment; streams always ask for usage so it can be settled. */
  private static JsonObject upstreamBody(JsonObject body, Deployment deployment, RequestView view) {
    JsonObject copy = new JsonObject(new LinkedHashMap<>(body.getMap()));
    copy.put("model", deployment.model());
    copy.remove("cache"); // the gateway's cache controls are ours, never the provider's
    renameMaxTokens(copy, deployment.maxTokensField());
    if (view.stream()) {
      JsonObject options = body.getValue("stream_options") instanceof JsonObject o ? o.copy() : new JsonObject();
      copy.put("stream_options", options.put("include_usage", true));
    }
    return copy;
  }

  /** o-series and gpt-5 want max_completion_tokens; many compatible servers only know max_tokens. */
  static void renameMaxTokens(JsonObject body, String wanted) {
    if (wanted == null) return;
    String other = wanted.equals("max_tokens") ? "max_completion_tokens" : "max_tokens";
    if (body.containsKey(other) && !body.containsKey(wanted)) body.put(wanted, body.remove(other));
  }

  private void respond(Exchange ex, Delivery delivery, RequestView view) {
    ex.provider = delivery.deployment().provider();
    ex.attempts = delivery.attempts();
    ex.unbilled = delivery.unbilled();
    ex.upstreamErrors = delivery.upstreamErrors();
    if (!delivery.fallbacks().isEmpty()) {
      StringBuilder sb = new StringBuilder();
      for (AttemptLoop.Fallback f : delivery.fallbacks()) {
        if (sb.length() > 0) sb.append(',');
        sb.append(f.from()).append('>').append(f.to()).append(':').append(f.reason());
      }
      ex.fallbacks = sb.toString();
      ex.response.putHeader("x-sluice-fallback", ex.fallbacks);
    }
    if (delivery.reply() instanceof UpstreamReply.Stream stream) {
      StreamRelay.start(vertx, ex, stream);
      return;
    }
    UpstreamReply.Json json = (UpstreamReply.Json) delivery.reply();
    Buffer out = json.body();
    if (json.json().getValue("usage") instanceof JsonObject usage) ex.usage = usage;
    if (ex.cacheWrite != null) ex.cacheWrite.onComplete(json.json().copy());
    if (view.base64Embeddings() && convertEmbeddingsToBase64(json.json())) out = json.json().toBuffer();
    HttpServerResponse response = ex.response;
    response.setStatusCode(200);
    response.putHeader("content-type", "application/json");
    if (ex.usage != null) response.putHeader("x-sluice-cost-usd", costHeader(ex.usageCost(ex.usage)));
    gatewayHeaders(ex, json.headers());
    ex.firstByteNanos = System.nanoTime();
    response.end(out);
    ex.settle(200, "ok");
  }

  /** Answers from a stored (or single-flight shared) response: no provider call, no tokens billed. */
  private void serveCached(Exchange ex, CachedResponse hit, RequestView view) {
    ex.savedUsage = hit.body().getValue("usage") instanceof JsonObject u ? u : null;
    HttpServerResponse response = ex.response;
    response.setStatusCode(200);
    if (view.stream()) {
      response.putHeader("content-type", "text/event-stream; charset=utf-8").putHeader("cache-control", "no-cache");
      gatewayHeaders(ex, MultiMap.caseInsensitiveMultiMap());
      Buffer events = Buffer.buffer();
      for (JsonObject chunk : SseReplay.chunks(hit.body(), view.includeUsage())) {
        events.appendString("data: ").appendBuffer(chunk.toBuffer()).appendString("\n\n");
      }
      ex.firstByteNanos = System.nanoTime();
      response.end(events.appendString("data: [DONE]\n\n"));
    } else {
      JsonObject body = hit.body();
      if (view.base64Embeddings()) {
        body = body.copy();
        convertEmbeddingsToBase64(body);
      }
      response.putHeader("content-type", "application/json");
      response.putHeader("x-sluice-cost-usd", "0"); // a hit costs the tenant nothing
      gatewayHeaders(ex, MultiMap.caseInsensitiveMultiMap());
      ex.firstByteNanos = System.nanoTime();
      response.end(body.toBuffer());
    }
    ex.settle(200, "ok");
  }

  static void gatewayHeaders(Exchange ex, MultiMap upstreamHeaders) {
    HttpServerResponse response = ex.response;
    HeaderPolicy.fromUpstream(upstreamHeaders, response);
    if (ex.provider != null) response.putHeader("x-sluice-provider", ex.provider);
    response.putHeader("x-sluice-attempts", Integer.toString(ex.attempts));
    response.putHeader("x-sluice-cache", ex.cacheStatus);
    response.putHeader("x-sluice-overhead-ms", millis3(ex.overheadMillis(System.nanoTime())));
  }

  /**
   * The gateway headers of an error answer: how many attempts were made, the last provider tried and why each attempt
   * failed ({@code x-sluice-upstream-error}, a comma-separated list of causes from a fixed vocabulary, never a host or
   * key). Nothing when the response has already started.
   */
  static void errorHeaders(Exchange ex) {
    HttpServerResponse response = ex.response;
    if (response.headWritten()) return;
    response.putHeader("x-sluice-attempts", Integer.toString(ex.attempts));
    if (ex.provider != null) response.putHeader("x-sluice-provider", ex.provider);
    if (!ex.upstreamErrors.isEmpty()) {
      StringBuilder causes = new StringBuilder();
      for (AttemptLoop.FailedAttempt failed : ex.upstreamErrors) {
        if (causes.length() > 0) causes.append(',');
        causes.append(failed.cause());
      }
      response.putHeader("x-sluice-upstream-error", causes.toString());
    }
  }

  /** USD with up to 9 decimals, plain notation (no exponent). */
  static String costHeader(double usd) {
    return java.math.BigDecimal.valueOf(usd).setScale(9, java.math.RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
  }

  /** Milliseconds with three decimals, without String.format (hot path). */
  static String millis3(double millis) {
    long micros = Math.round(millis * 1000);
    long frac = micros % 1000;
    return (micros / 1000) + (frac < 10 ? ".00" : frac < 100 ? ".0" : ".") + frac;
  }

  /**
   * The OpenAI SDKs ask for base64 by default; servers that only return float arrays get converted here to
   * base64 of little-endian float32, as OpenAI encodes them.
   *
   * @return whether anything was converted
   */
  static boolean convertEmbeddingsToBase64(JsonObject response) {
    if (!(response.getValue("data") instanceof JsonArray data)) return false;
    boolean changed = false;
    for (Object item : data) {
      if (item instanceof JsonObject embedding && embedding.getValue("embedding") instanceof JsonArray floats) {
        ByteBuffer bytes = ByteBuffer.allocate(floats.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (Object f : floats) bytes.putFloat(f instanceof Number n ? n.floatValue() : 0f);
        embedding.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
        changed = true;
      }
    }
    return changed;
  }
}
