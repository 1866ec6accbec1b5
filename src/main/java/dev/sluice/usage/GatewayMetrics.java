package dev.sluice.usage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The Prometheus meters, fed from usage events (so the request path never waits on them). Labels come
 * only from bounded, configured sets — tenant ids and aliases from config (anything else becomes {@code other}),
 * provider names, status classes, cache results — never keys, request ids or users. Histograms use explicit
 * buckets for LLM latencies (TTFT 10 ms–60 s, duration 50 ms–10 min) and for gateway overhead (50 µs–100 ms).
 */
public final class GatewayMetrics {
  private static final Duration[] DURATION_BUCKETS = seconds(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600);
  private static final Duration[] TTFT_BUCKETS = seconds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60);
  private static final Duration[] OVERHEAD_BUCKETS = seconds(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01, 0.025, 0.05, 0.1);

  private final MeterRegistry registry;
  private final Supplier<Set<String>> tenants;
  private final Supplier<Set<String>> aliases;
  private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicReference<Double>> budgets = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicReference<Double>> budgetCaps = new ConcurrentHashMap<>();

  /**
   * @param tenants the configured tenant ids (current snapshot), to keep the tenant label bounded
   * @param aliases the configured aliases, likewise
   */
  public GatewayMetrics(MeterRegistry registry, Supplier<Set<String>> tenants, Supplier<Set<String>> aliases) {
    this.registry = registry;
    this.tenants = tenants;
    this.aliases = aliases;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** A request of this tenant started (the in-flight gauge); pair with {@link #requestEnded}. */
  public void requestStarted(String tenant) {
    inFlightOf(tenant).incrementAndGet();
  }

  public void requestEnded(String tenant) {
    inFlightOf(tenant).decrementAndGet();
  }

  private AtomicInteger inFlightOf(String tenant) {
    return inFlight.computeIfAbsent(bounded(tenant, tenants), t -> {
      AtomicInteger value = new AtomicInteger();
      Gauge.builder("llm_inflight_requests", value, AtomicInteger::get).tag("tenant", t)
          .description("API requests in progress").register(registry);
      return value;
    });
  }

  /**
   * Publishes what is left of a tenant's tightest budget cap (day or month), as last read from the ledger, and that
   * cap, so dashboards and alerts can show the share used.
   */
  public void budgetRemaining(String tenant, double remainingUsd, double capUsd) {
    String t = bounded(tenant, tenants);
    gaugeOf(budgets, "llm_budget_remaining_usd", t, "USD left of the tenant's tightest budget cap").set(remainingUsd);
    gaugeOf(budgetCaps, "llm_budget_limit_usd", t, "the tenant's tightest budget cap in USD").set(capUsd);
  }

  private java.util.concurrent.atomic.AtomicReference<Double> gaugeOf(
      ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicReference<Double>> gauges, String name, String tenant,
      String description) {
    return gauges.computeIfAbsent(tenant, t -> {
      java.util.concurrent.atomic.AtomicReference<Double> value = new java.util.concurrent.atomic.AtomicReference<>(0.0);
      Gauge.builder(name, value, java.util.concurrent.atomic.AtomicReference::get).tag("tenant", t)
          .description(description).register(registry);
      return value;
    });
  }

  /** Exposes a value kept elsewhere (e.g. a breaker's state) as a gauge. */
  public <T> void registerGauge(String name, String tagKey, String tagValue, T source, ToDoubleFunction<T> read) {
    Gauge.builder(name, source, read).tag(tagKey, tagValue).register(registry);
  }

  /** Exposes a counter kept elsewhere (e.g. Redis errors inside the limiter) as a Prometheus counter. */
  public <T> void registerCounter(String name, String tagKey, String tagValue, T source, ToDoubleFunction<T> read) {
    FunctionCounter.builder(name, source, read).tag(tagKey, tagValue).register(registry);
  }

  /** Meters of one tenant and alias, created once and reused (registry lookups are not free on the hot path). */
  private final class PerModel {
    final Timer duration;
    final Timer ttft;
    final Counter prompt;
    final Counter cached;
    final Counter completion;
    final Counter cost;
    final Counter saved;

    PerModel(String tenant, String model) {
      duration = Timer.builder("llm_request_duration_seconds").tags("tenant", tenant, "model", model)
          .serviceLevelObjectives(DURATION_BUCKETS).register(registry);
      ttft = Timer.builder("llm_time_to_first_token_seconds").tags("tenant", tenant, "model", model)
          .serviceLevelObjectives(TTFT_BUCKETS).register(registry);
      prompt = tokens(tenant, model, "prompt");
      cached = tokens(tenant, model, "cached");
      completion = tokens(tenant, model, "completion");
      cost = Counter.builder("llm_cost_usd_total").tags("tenant", tenant, "model", model).register(registry);
      saved = Counter.builder("llm_cache_tokens_saved_total").tags("tenant", tenant, "model", model).register(registry);
    }

    private Counter tokens(String tenant, String model, String type) {
      return Counter.builder("llm_tokens_total").tags("tenant", tenant, "model", model, "type", type).register(registry);
    }
  }

  private record RequestLabels(String tenant, String model, String provider, String status, String outcome) {}

  private final ConcurrentHashMap<List<String>, PerModel> perModel = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<RequestLabels, Counter> requests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<List<String>, Counter> labelled = new ConcurrentHashMap<>();
  private Timer overhead;

  private Counter counter(String name, String... tags) {
    List<String> key = new java.util.ArrayList<>(tags.length + 1);
    key.add(name);
    key.addAll(List.of(tags));
    return labelled.computeIfAbsent(key, k -> Counter.builder(name).tags(tags).register(registry));
  }

  public void record(UsageEvent e) {
    String tenant = bounded(e.tenant(), tenants);
    String model = bounded(e.alias(), aliases);
    String provider = e.provider() == null ? "none" : e.provider();
    requests.computeIfAbsent(new RequestLabels(tenant, model, provider, statusClass(e.status()), e.outcome()),
        k -> Counter.builder("llm_requests_total").tags("tenant", k.tenant(), "model", k.model(), "provider", k.provider(),
            "status", k.status(), "outcome", k.outcome()).register(registry)).increment();
    PerModel m = perModel.computeIfAbsent(List.of(tenant, model), k -> new PerModel(k.get(0), k.get(1)));
    m.duration.record((long) (e.latencyMs() * 1000), TimeUnit.MICROSECONDS);
    if (e.stream() && e.ttftMs() >= 0) m.ttft.record((long) (e.ttftMs() * 1000), TimeUnit.MICROSECONDS);
    if (overhead == null) {
      overhead = Timer.builder("llm_gateway_overhead_seconds").description("time not spent waiting on the upstream")
          .serviceLevelObjectives(OVERHEAD_BUCKETS).register(registry);
    }
    overhead.record((long) (e.overheadMs() * 1000), TimeUnit.MICROSECONDS);
    if (e.promptTokens() > e.cachedTokens()) m.prompt.increment(e.promptTokens() - e.cachedTokens());
    if (e.cachedTokens() > 0) m.cached.increment(e.cachedTokens());
    if (e.completionTokens() > 0) m.completion.increment(e.completionTokens());
    if (e.costUsd() > 0) m.cost.increment(e.costUsd());
    if (!e.priced() && e.promptTokens() + e.completionTokens() > 0) {
      // the upstream model comes from config (bounded); tokens were used but nothing is billed for them
      counter("llm_cost_unpriced_requests_total", "upstream_model", e.upstreamModel()).increment();
    }
    if (!"chat".equals(e.endpoint()) && !"embeddings".equals(e.endpoint())) return;
    counter("llm_cache_requests_total", "result", e.cache()).increment();
    if ("HIT".equals(e.cache())) {
      counter("llm_cache_hits_total").increment();
      if (e.tokensSaved() > 0) m.saved.increment(e.tokensSaved());
    }
    if (e.rateLimit() != null) counter("llm_ratelimit_rejections_total", "tenant", tenant, "limit", e.rateLimit()).increment();
    if (e.fallbacks() != null) {
      for (String fallback : e.fallbacks().split(",")) {
        String[] parts = fallback.split("[>:]");
        if (parts.length == 3) counter("llm_fallbacks_total", "from", parts[0], "to", parts[1], "reason", parts[2]).increment();
      }
    }
    for (UsageEvent.UnbilledAttempt a : e.unbilled()) {
      // providers and upstream models come from config (bounded)
      counter("llm_upstream_unbilled_attempts_total", "provider", a.provider()).increment();
      if (a.costUsd() > 0) {
        counter("llm_upstream_unbilled_cost_usd_total", "tenant", tenant, "provider", a.provider()).increment(a.costUsd());
      }
    }
    // One count per attempt: a failed one under its cause (a fixed vocabulary, so the label stays bounded), the one
    // that delivered under success (or cancelled, when the client left while it ran).
    for (UsageEvent.UpstreamError failed : e.upstreamErrors()) {
      counter("llm_upstream_attempts_total", "provider", failed.provider(), "result", failed.cause()).increment();
    }
    int unfailed = e.attempts() - e.upstreamErrors().size();
    if (unfailed > 0) {
      String result = "client_cancel".equals(e.outcome()) ? "cancelled" : "success";
      counter("llm_upstream_attempts_total", "provider", provider, "result", result).increment(unfailed);
    }
  }

  private static String bounded(String value, Supplier<Set<String>> known) {
    if (value == null) return "none";
    return known.get().contains(value) ? value : "other";
  }

  static String statusClass(int status) {
    return status == 499 ? "499" : (status / 100) + "xx";
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) out[i] = Duration.ofNanos((long) (values[i] * 1e9));
    return out;
  }

}
