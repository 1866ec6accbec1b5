package dev.sluice.http;

import dev.sluice.config.ModelRoute;
import dev.sluice.config.TenantConfig;
import dev.sluice.config.TenantLimits;
import dev.sluice.config.Durations;
import dev.sluice.ratelimit.BudgetDecision;
import dev.sluice.ratelimit.BudgetRequest;
import dev.sluice.ratelimit.LimitRequest;
import dev.sluice.ratelimit.Quotas;
import dev.sluice.ratelimit.RateLimitDecision;
import dev.sluice.routing.Route;
import dev.sluice.upstream.Endpoint;
import dev.sluice.usage.CostCalculator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * Admission: context-window guard, then the rate limiter (reserving prompt tokens + maximum output
 * tokens) and the budget (reserving the worst-case cost). Maps denials to the error contract and writes the
 * {@code x-ratelimit-*} headers; {@link #settle} books actual usage on every exit path.
 */
final class Admission {
  /** Prompts longer than this are counted on a worker thread, not on the event loop. */
  private static final int INLINE_COUNT_LIMIT = 16 * 1024; // worst case (no whitespace) ≈ 7 ms of jtokkit; prose ≈ 1 ms

  private final Vertx vertx;
  private final Services services;

  Admission(Vertx vertx, Services services) {
    this.vertx = vertx;
    this.services = services;
  }

  Future<Void> admit(Exchange ex, Route route, JsonObject body, RequestView view, Endpoint endpoint, int bodyBytes) {
    String countModel = route.deployments().get(0).model();
    TenantConfig tenant = ex.key.tenant();
    TenantLimits tenantLimits = effectiveLimits(ex);
    long perChoice;
    long maxOutput;
    if (endpoint == Endpoint.EMBEDDINGS) {
      perChoice = 0;
      maxOutput = 0;
    } else {
      try {
        perChoice = perChoiceOutput(view, route.config());
      } catch (ApiError.Failure tooLarge) {
        return Future.failedFuture(tooLarge);
      }
      maxOutput = Math.multiplyExact(perChoice, (long) view.choices()); // ≤ 2^31 × 128 fits; checked all the same
    }
    ex.countPrompt = () -> countPrompt(body, endpoint, countModel);
    ex.promptBytes = bodyBytes;
    // Counting costs CPU; skip it when nothing needs the number now: no token limit, no budget, and a body too
    // small to exceed the context window (a token always covers at least one byte of the body).
    boolean needCount = tenantLimits.tokensPerMinute() != null || !tenant.budget().equals(dev.sluice.config.BudgetConfig.NONE)
        || endpoint == Endpoint.CHAT_COMPLETIONS && bodyBytes + perChoice > route.config().contextWindow();
    Future<Integer> prompt = !needCount ? Future.succeededFuture(-1)
        : count(bodyBytes <= INLINE_COUNT_LIMIT, () -> countPrompt(body, endpoint, countModel));
    return prompt.compose(counted -> {
      ex.promptEstimate = counted;
      long promptTokens = Math.max(0, counted);
      // each choice has its own context: the window bounds the prompt plus one choice's output
      if (endpoint == Endpoint.CHAT_COMPLETIONS && promptTokens + perChoice > route.config().contextWindow()) {
        return Future.failedFuture(ApiError.invalidRequest("context_length_exceeded", "messages",
            "This model's maximum context length is " + route.config().contextWindow() + " tokens. However, you requested "
                + (promptTokens + perChoice) + " tokens (" + promptTokens + " in the messages, " + perChoice
                + " in the completion). Please reduce the length of the messages or completion.").asFailure());
      }
      String scope = ex.state.config().limits().perModel() ? route.alias() : "";
      LimitRequest request = new LimitRequest(tenant.id(), scope, ex.requestId, tenantLimits, promptTokens + maxOutput,
          tenant.onRedisFailure());
      boolean capped = tenant.budget().dailyUsd() != null || tenant.budget().monthlyUsd() != null;
      BudgetRequest budget = !capped ? null : new BudgetRequest(tenant.id(), ex.requestId, tenant.budget(),
          ex.state.costs().worstCase(countModel, promptTokens, maxOutput),
          LocalDate.now(services.clock().withZone(ZoneOffset.UTC)), tenant.onRedisFailure());
      // Limits and budget in one decision (one Redis round trip); a refusal of either consumed nothing.
      return quotas().admit(request, budget).compose(verdict -> {
        RateLimitDecision decision = verdict.limit();
        rateLimitHeaders(ex.response, decision);
        if (!decision.allowed()) {
          ex.rateLimit = switch (decision.denial()) {
            case REQUESTS -> "requests";
            case CONCURRENCY -> "concurrency";
            case LIMITER_UNAVAILABLE -> "unavailable";
            default -> "tokens";
          };
          return Future.failedFuture(denied(decision, request).asFailure());
        }
        BudgetDecision reserved = verdict.budget();
        if (reserved != null && !reserved.allowed()) {
          ex.rateLimit = reserved.unavailable() ? "unavailable" : "budget";
          if (reserved.unavailable()) return Future.failedFuture(limiterUnavailable().asFailure());
          return Future.failedFuture(new ApiError(429, "insufficient_quota", "insufficient_quota", null,
              "You exceeded your current quota: the tenant's budget is exhausted.", -1, false).asFailure());
        }
        ex.limitRequest = request;
        ex.limitDecision = decision;
        if (reserved != null) {
          ex.budgetRequest = budget;
          ex.budgetDecision = reserved;
        }
        return Future.<Void>succeededFuture();
      });
    });
  }

  private Quotas quotas() {
    return Quotas.of(services.limiter(), services.budgets());
  }

  private TenantLimits effectiveLimits(Exchange ex) {
    TenantLimits own = ex.key.tenant().limits();
    boolean none = own.requestsPerMinute() == null && own.tokensPerMinute() == null && own.maxInFlight() == null;
    return none ? ex.state.config().limits().defaults() : own;
  }

  private int countPrompt(JsonObject body, Endpoint endpoint, String model) {
    if (endpoint == Endpoint.EMBEDDINGS) return services.tokens().countInput(body.getValue("input"), model);
    int tokens = body.getValue("messages") instanceof JsonArray m ? services.tokens().countMessages(m, model) : 0;
    if (body.getValue("tools") instanceof JsonArray tools) {
      tokens = (int) Math.min(Integer.MAX_VALUE, (long) tokens + services.tokens().countText(tools.encode(), model));
    }
    return tokens;
  }

  /**
   * One choice's output limit: the request's own, or the alias's default when it asks none. Asking more than the
   * alias's {@code max-output-tokens} (or, when that is not set, its context window) is a 400, as OpenAI answers it: the reservation is never sized from an unbounded
   * client number.
   */
  static long perChoiceOutput(RequestView view, ModelRoute route) {
    if (view.maxTokens() <= 0) return route.defaultOutputTokens();
    if (view.maxTokens() > route.outputCeiling()) {
      throw ApiError.invalidRequest("invalid_value", view.maxTokensParam(), view.maxTokensParam() + " is too large: "
          + view.maxTokens() + ". This model supports at most " + route.outputCeiling()
          + " completion tokens, whereas you provided " + view.maxTokens() + ".").asFailure();
    }
    return view.maxTokens();
  }

  private static ApiError denied(RateLimitDecision d, LimitRequest request) {
    return switch (d.denial()) {
      case REQUESTS -> new ApiError(429, "requests", "rate_limit_exceeded", null,
          "Rate limit reached for requests per minute (RPM): Limit " + d.requestLimit() + ", Remaining "
              + d.requestsRemaining() + ". Please try again in " + Durations.format(Duration.ofMillis(d.retryAfterMillis())) + ".",
          d.retryAfterMillis(), null);
      case TOKENS -> new ApiError(429, "tokens", "rate_limit_exceeded", null,
          "Rate limit reached for tokens per minute (TPM): Limit " + d.tokenLimit() + ", Remaining " + d.tokensRemaining()
              + ", Requested " + request.tokenCost() + ". Please try again in "
              + Durations.format(Duration.ofMillis(d.retryAfterMillis())) + ".", d.retryAfterMillis(), null);
      case LARGER_THAN_BUCKET -> new ApiError(429, "tokens", "rate_limit_exceeded", null,
          "Request too large for tokens per minute (TPM): Limit " + d.tokenLimit() + ", Requested " + request.tokenCost()
              + ". Reduce the prompt or max_tokens.", -1, false);
      case CONCURRENCY -> new ApiError(429, "requests", "concurrency_limit_exceeded", null,
          "Too many concurrent requests for this tenant; please retry when one finishes.", d.retryAfterMillis(), null);
      case LIMITER_UNAVAILABLE -> limiterUnavailable();
      case NONE -> throw new IllegalStateException("not a denial");
    };
  }

  private static ApiError limiterUnavailable() {
    return new ApiError(503, "server_error", "rate_limiter_unavailable", null,
        "The rate limiter is unavailable and this tenant is configured to fail closed; please retry shortly.", 1000, null);
  }

  /** OpenAI's header set; reset is the time until the bucket is full again, as a Go-style duration. */
  static void rateLimitHeaders(HttpServerResponse response, RateLimitDecision d) {
    if (response.headWritten()) return;
    if (d.requestLimit() > 0) {
      response.putHeader("x-ratelimit-limit-requests", Long.toString(d.requestLimit()));
      response.putHeader("x-ratelimit-remaining-requests", Long.toString(d.requestsRemaining()));
      response.putHeader("x-ratelimit-reset-requests", Durations.format(Duration.ofMillis(d.requestsResetMillis())));
    }
    if (d.tokenLimit() > 0) {
      response.putHeader("x-ratelimit-limit-tokens", Long.toString(d.tokenLimit()));
      response.putHeader("x-ratelimit-remaining-tokens", Long.toString(d.tokensRemaining()));
      response.putHeader("x-ratelimit-reset-tokens", Durations.format(Duration.ofMillis(d.tokensResetMillis())));
    }
  }

  /**
   * Counts what settlement needs and the provider did not report: {@code [prompt, completion]}, -1 where not asked.
   * Small inputs are counted at once; larger ones (a long cut stream, a big prompt) on a worker, because a few MiB of
   * text take jtokkit seconds and the event loop must not wait for that.
   */
  Future<long[]> countForSettlement(Exchange ex, boolean prompt, CharSequence completion) {
    boolean small = (!prompt || ex.promptBytes <= INLINE_COUNT_LIMIT)
        && (completion == null || completion.length() <= INLINE_COUNT_LIMIT);
    return count(small, () -> new long[] {
        prompt ? ex.countPrompt.getAsInt() : -1,
        completion == null ? -1 : services.tokens().countText(completion.toString(), ex.upstreamModel)});
  }

  /** Token counting: at once when the input is small, else on a worker (ordered=false) off the event loop. */
  private <T> Future<T> count(boolean small, java.util.concurrent.Callable<T> counting) {
    if (!small) return vertx.executeBlocking(counting, false);
    try {
      return Future.succeededFuture(counting.call());
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * A token count from provider usage: a number clamped to {@code 0..}{@link CostCalculator#MAX_TOKENS}, 0 when absent
   * or not a number (a malformed usage object must not throw during settlement).
   */
  static long tokens(JsonObject usage, String field) {
    if (usage == null || !(usage.getValue(field) instanceof Number n)) return 0;
    double value = n.doubleValue();
    return value >= CostCalculator.MAX_TOKENS ? CostCalculator.MAX_TOKENS : CostCalculator.tokens(n.longValue());
  }

  /** Books what the request really used (or nothing, if it never reached a provider) and returns its cost. */
  double settle(Exchange ex, long promptTokens, long completionTokens, long cachedTokens, long cacheWriteTokens) {
    // provider-reported counts are clamped (never negative, never near overflow) before they move a bucket
    long actualTokens = CostCalculator.tokens(promptTokens) + CostCalculator.tokens(completionTokens);
    double cost = ex.state.costs().cost(ex.upstreamModel, promptTokens, cachedTokens, cacheWriteTokens, completionTokens);
    if (ex.limitRequest != null || ex.budgetRequest != null) {
      quotas().settle(ex.limitRequest, ex.limitDecision, ex.budgetRequest, ex.budgetDecision, actualTokens, cost);
    }
    return cost;
  }
}
