package dev.sluice.http;

import dev.sluice.auth.AuthenticatedKey;
import dev.sluice.config.Deployment;
import dev.sluice.ratelimit.BudgetDecision;
import dev.sluice.ratelimit.BudgetRequest;
import dev.sluice.ratelimit.LimitRequest;
import dev.sluice.ratelimit.RateLimitDecision;
import dev.sluice.upstream.Cancellation;
import dev.sluice.usage.UsageEvent;
import dev.sluice.usage.UsagePublisher;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/**
 * Per-request state from arrival to settlement, on one event loop. {@link #settle} runs exactly once, whatever
 * the exit path (success, error, upstream failure, client cancel), and publishes the usage event.
 */
final class Exchange {
  static final String KEY = "sluice.exchange";

  final String requestId;
  final long startNanos = System.nanoTime();
  final GatewayState state;
  final HttpServerResponse response;
  final Cancellation cancellation = new Cancellation();
  private final UsagePublisher publisher;
  private final java.util.function.Consumer<Exchange> release;
  private final Admission admission;

  AuthenticatedKey key;
  String endpoint = "other";
  String alias;
  String provider;
  String upstreamModel;
  boolean stream;
  boolean clientWantsUsage;
  int attempts;
  /** Fallbacks before the commit point ({@code from>to:reason,…}), or null. */
  String fallbacks;
  /** Failed attempts the provider may bill although nothing of theirs was delivered (not charged to the tenant). */
  java.util.List<Deployment> unbilled = java.util.List.of();
  /** Why each failed upstream attempt failed ({@code UpstreamFailure#cause()}), in order. */
  java.util.List<dev.sluice.routing.AttemptLoop.FailedAttempt> upstreamErrors = java.util.List.of();
  long upstreamSendNanos;
  long upstreamCommitNanos;
  long firstByteNanos;
  JsonObject usage;
  String errorCode;
  /** Which limit refused the request (requests, tokens, concurrency, budget, unavailable), if one did. */
  String rateLimit;
  /** Admission's count of prompt tokens, or -1 when admission did not need it (then {@link #countPrompt} does). */
  long promptEstimate = -1;
  /** Counts the prompt on demand: for a stream that ends without provider usage. */
  java.util.function.IntSupplier countPrompt;
  /** The request body's size, to decide whether counting its prompt may run on the event loop. */
  int promptBytes;
  /** Content streamed to the client, kept to count completion tokens when a stream ends without usage. */
  StringBuilder streamedText;
  /** The {@code x-sluice-cache} value: DISABLED, BYPASS, MISS, REFRESH or HIT. */
  String cacheStatus = "DISABLED";
  /** Set when this request's answer is to be stored (and shared with single-flight followers). */
  CacheStep.CacheWrite cacheWrite;
  /** Usage of the original answer when served from the cache: tokens saved, not billed. */
  JsonObject savedUsage;
  LimitRequest limitRequest;
  RateLimitDecision limitDecision;
  BudgetRequest budgetRequest;
  BudgetDecision budgetDecision;
  private boolean settled;

  /**
   * @param release returns the request's process-wide in-flight slots; run once, at settlement
   * @param admission books the request's actual usage against its limits and budget at settlement
   */
  Exchange(String requestId, GatewayState state, HttpServerResponse response, UsagePublisher publisher,
           java.util.function.Consumer<Exchange> release,
           Admission admission) {
    this.requestId = requestId;
    this.release = release;
    this.admission = admission;
    this.state = state;
    this.response = response;
    this.publisher = publisher;
  }

  boolean isSettled() {
    return settled;
  }

  /** What this usage costs at the upstream model's price (the {@code x-sluice-cost-usd} header of JSON answers). */
  double usageCost(JsonObject u) {
    JsonObject details = u.getValue("prompt_tokens_details") instanceof JsonObject d ? d : null;
    return state.costs().cost(upstreamModel, u.getLong("prompt_tokens", 0L),
        details == null ? 0 : details.getLong("cached_tokens", 0L),
        details == null ? 0 : details.getLong("cache_creation_input_tokens", 0L), u.getLong("completion_tokens", 0L));
  }

  /** Time the gateway itself spent: everything except waiting for the upstream's commit. */
  double overheadMillis(long nowNanos) {
    long upstreamWait = upstreamSendNanos == 0 ? 0 : (upstreamCommitNanos == 0 ? nowNanos : upstreamCommitNanos) - upstreamSendNanos;
    return Math.max(0, (nowNanos - startNanos) - upstreamWait) / 1e6;
  }

  void settle(int status, String outcome) {
    if (settled) return;
    settled = true;
    if (cacheWrite != null) cacheWrite.abandon(); // no-op once stored; otherwise followers must not wait on us
    long now = System.nanoTime();
    // The provider delivered output but no usage (cut or cancelled stream): bill what was produced, counted.
    boolean countOutput = usage == null && upstreamCommitNanos != 0;
    boolean countPromptNow = promptEstimate < 0 && countPrompt != null && (countOutput || !unbilled.isEmpty());
    if (!countOutput && !countPromptNow) {
      publish(status, outcome, now, -1, -1);
      return;
    }
    // a snapshot: the worker must not read the builder the event loop owns
    String text = countOutput ? (streamedText == null ? "" : streamedText.toString()) : null;
    admission.countForSettlement(this, countPromptNow, text)
        .onComplete(ar -> {
          // a failed count never replaces provider-reported usage
          long[] counted = ar.succeeded() ? ar.result() : new long[] {-1, countOutput ? 0 : -1};
          if (counted[0] >= 0) promptEstimate = counted[0];
          publish(status, outcome, now, countOutput ? promptTokens() : -1, counted[1]);
        });
  }

  /** Books the usage against limits and budget and publishes the usage event; counted values are -1 when unused. */
  private void publish(int status, String outcome, long now, long countedPrompt, long countedCompletion) {
    release.accept(this); // here, not at settle(): a drain waits for settlements still counting on a worker
    String usageSource = usage != null ? "provider" : "none";
    long prompt = usage == null ? 0 : usage.getLong("prompt_tokens", 0L);
    long completion = usage == null ? 0 : usage.getLong("completion_tokens", 0L);
    JsonObject promptDetails = usage != null && usage.getValue("prompt_tokens_details") instanceof JsonObject d ? d : null;
    long cached = promptDetails == null ? 0 : promptDetails.getLong("cached_tokens", 0L);
    // Anthropic's cache writes (normalised by its adapter) are billed at the cache-write rate
    long cacheWrite = promptDetails == null ? 0 : promptDetails.getLong("cache_creation_input_tokens", 0L);
    long reasoning = usage != null && usage.getValue("completion_tokens_details") instanceof JsonObject d ? d.getLong("reasoning_tokens", 0L) : 0;
    if (countedCompletion >= 0) {
      prompt = Math.max(0, countedPrompt);
      completion = countedCompletion;
      usageSource = "counted";
    }
    double cost = admission.settle(this, prompt, completion, cached, cacheWrite);
    double overhead = firstByteNanos == 0 ? overheadMillis(now) : overheadMillis(firstByteNanos);
    publisher.publish(new UsageEvent(System.currentTimeMillis(), requestId, key == null ? null : key.tenantId(),
        key == null ? null : key.keyId(), endpoint, alias, provider, upstreamModel, stream, status, outcome, errorCode,
        rateLimit, attempts, fallbacks, cacheStatus, savedUsage == null ? 0 : savedUsage.getLong("total_tokens", 0L), prompt, completion, cached, reasoning, usageSource,
        upstreamModel == null || state.costs().knows(upstreamModel), cost,
        TimeUnit.NANOSECONDS.toMicros(now - startNanos) / 1000.0,
        firstByteNanos == 0 ? -1 : TimeUnit.NANOSECONDS.toMicros(firstByteNanos - startNanos) / 1000.0, overhead,
        unbilledAttempts(), upstreamErrorsForEvent()));
  }

  private java.util.List<UsageEvent.UpstreamError> upstreamErrorsForEvent() {
    if (upstreamErrors.isEmpty()) return java.util.List.of();
    java.util.List<UsageEvent.UpstreamError> out = new java.util.ArrayList<>(upstreamErrors.size());
    for (var e : upstreamErrors) out.add(new UsageEvent.UpstreamError(e.provider(), e.cause()));
    return out;
  }

  /** Records why the committed attempt failed mid-stream, after the failures before it. */
  void addUpstreamError(String cause) {
    java.util.List<dev.sluice.routing.AttemptLoop.FailedAttempt> all = new java.util.ArrayList<>(upstreamErrors.size() + 1);
    all.addAll(upstreamErrors);
    all.add(new dev.sluice.routing.AttemptLoop.FailedAttempt(provider, cause));
    upstreamErrors = java.util.List.copyOf(all);
  }

  /** The prompt's token count when admission or settlement counted it, else 0 (never counted on the event loop here). */
  private long promptTokens() {
    return Math.max(0, promptEstimate);
  }

  /** Abandoned attempts at their prompt's input price: what the provider may bill beyond what the tenant pays. */
  private java.util.List<UsageEvent.UnbilledAttempt> unbilledAttempts() {
    if (unbilled.isEmpty()) return java.util.List.of();
    long prompt = promptTokens();
    java.util.List<UsageEvent.UnbilledAttempt> out = new java.util.ArrayList<>(unbilled.size());
    for (Deployment d : unbilled) {
      out.add(new UsageEvent.UnbilledAttempt(d.provider(), d.model(), state.costs().cost(d.model(), prompt, 0, 0, 0)));
    }
    return out;
  }
}
