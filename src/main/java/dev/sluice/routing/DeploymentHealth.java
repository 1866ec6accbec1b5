package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.config.ResilienceConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowSynchronizationStrategy;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide health of every deployment: one circuit breaker each (created once), plus cool-down (after a provider
 * 429) and disable (after a provider auth or quota failure) deadlines.
 *
 * <p>The breaker (Resilience4j, lock-free count window) opens when {@code breaker-failure-rate} percent of the last
 * {@code breaker-window} calls failed, once at least {@code breaker-min-calls} were made; stays open for
 * {@code breaker-open}; then admits {@code breaker-probes} calls and closes or reopens on their failure rate. It has no
 * operation timeout of its own: the attempt loop records each outcome at the commit point, so a long stream is never a
 * failure, and only {@link OutcomeClassifier.Outcome#RETRYABLE} outcomes count as failures. Time comes from the
 * injected clock (tests move it; nothing is scheduled).
 */
public final class DeploymentHealth {
  /** A deployment's breaker and rest periods. */
  public final class Entry {
    private final CircuitBreaker breaker;
    private final AtomicLong openedAt = new AtomicLong();
    private final AtomicLong restUntil = new AtomicLong();
    private final AtomicLong providerRestUntil;

    private final String name;

    Entry(String name) {
      this.name = name;
      providerRestUntil = providers.computeIfAbsent(name.substring(0, name.indexOf('/')), p -> new AtomicLong());
      breaker = CircuitBreaker.of("sluice-" + name, breakerConfig);
    }

    /** 0 closed, 1 half-open, 2 open (the {@code llm_circuit_state} encoding). */
    public int state() {
      return switch (breaker.getState()) {
        case CLOSED, DISABLED, METRICS_ONLY -> 0;
        case HALF_OPEN -> 1;
        case OPEN, FORCED_OPEN -> 2;
      };
    }

    /** Open and still inside its open period (after it, the next call finds it half-open). */
    boolean open() {
      return breaker.getState() == CircuitBreaker.State.OPEN
          && clock.millis() <= openedAt.get() + config.breakerOpen().toMillis();
    }

    /**
     * Takes a permission to call: always while closed; one of the {@code breaker-probes} while half-open. Every
     * permission taken must end in {@link #succeeded}, {@link #failed} or {@link #released}.
     */
    boolean tryAcquire() {
      return breaker.tryAcquirePermission();
    }

    /** The attempt reached the commit point. */
    void succeeded() {
      boolean wasOpen = isOpenState();
      breaker.onSuccess(0, TimeUnit.NANOSECONDS);
      noticeOpening(wasOpen); // a window judged on a success can open too (e.g. probes F, F, S)
    }

    /** The attempt failed in a way that says the deployment is unhealthy (a breaker failure). */
    void failed(Throwable cause) {
      boolean wasOpen = isOpenState();
      breaker.onError(0, TimeUnit.NANOSECONDS, cause);
      noticeOpening(wasOpen);
    }

    private boolean isOpenState() {
      return breaker.getState() == CircuitBreaker.State.OPEN;
    }

    /** After a record: if that record opened the breaker, start the open period here and tell the other replicas. */
    private void noticeOpening(boolean wasOpen) {
      if (wasOpen || !isOpenState()) return;
      long now = clock.millis();
      openedAt.set(now);
      opened.accept(name, now + config.breakerOpen().toMillis());
    }

    /** Another replica's breaker for this deployment opened: refuse calls here too until {@code untilMillis}. */
    void openUntil(long untilMillis) {
      long now = clock.millis();
      // never longer than our own open period: a replica with a fast clock must not bench a deployment for long
      long until = Math.min(untilMillis, now + config.breakerOpen().toMillis());
      if (isOpenState() || until <= now) return;
      openedAt.set(until - config.breakerOpen().toMillis());
      breaker.transitionToOpenStateUntil(java.time.Instant.ofEpochMilli(until));
    }

    /** The attempt ended in a way that says nothing about the deployment's health (429, 4xx, client gone). */
    void released() {
      breaker.releasePermission();
    }

    /** For the admin API: state, the window's failure rate and calls, and the time until it may be tried again. */
    public io.vertx.core.json.JsonObject describe() {
      CircuitBreaker.Metrics m = breaker.getMetrics();
      return new io.vertx.core.json.JsonObject()
          .put("state", switch (state()) { case 0 -> "closed"; case 1 -> "half_open"; default -> "open"; })
          .put("failure_rate_percent", m.getFailureRate() < 0 ? null : (double) m.getFailureRate())
          .put("calls", m.getNumberOfBufferedCalls())
          .put("failed_calls", m.getNumberOfFailedCalls())
          .put("retry_in_ms", waitMillis());
    }

    boolean resting() {
      long now = clock.millis();
      return restUntil.get() > now || providerRestUntil.get() > now;
    }

    /** Milliseconds until this deployment may be tried again (0 if it may now). */
    long waitMillis() {
      long now = clock.millis();
      long rest = Math.max(0, Math.max(restUntil.get(), providerRestUntil.get()) - now);
      long open = open() ? Math.max(0, openedAt.get() + config.breakerOpen().toMillis() - now) : 0;
      return Math.max(rest, open);
    }

    /** This deployment rests (a model-specific rate limit). */
    void restFor(long millis) {
      restUntil.accumulateAndGet(clock.millis() + millis, Math::max);
    }

    /** Every deployment of this provider rests (its key or account is the problem, not the model). */
    void restProviderFor(long millis) {
      providerRestUntil.accumulateAndGet(clock.millis() + millis, Math::max);
    }
  }

  private final ResilienceConfig config;
  private final Clock clock;
  private final CircuitBreakerConfig breakerConfig;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final LongAdder possibleDuplicates = new LongAdder();
  private final Map<String, AtomicLong> providers = new ConcurrentHashMap<>();
  private volatile java.util.function.BiConsumer<String, Long> opened = (deployment, untilMillis) -> { };

  public DeploymentHealth(ResilienceConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.breakerConfig = CircuitBreakerConfig.custom()
        .slidingWindow(config.breakerWindow(), config.breakerMinCalls(), SlidingWindowType.COUNT_BASED,
            SlidingWindowSynchronizationStrategy.LOCK_FREE)
        .failureRateThreshold(config.breakerFailureRate())
        .waitDurationInOpenState(config.breakerOpen())
        .permittedNumberOfCallsInHalfOpenState(config.breakerProbes())
        .slowCallRateThreshold(100)
        .slowCallDurationThreshold(Duration.ofDays(365)) // latency is the timeouts' business, not the breaker's
        .automaticTransitionFromOpenToHalfOpenEnabled(false) // no scheduler thread: the next call finds it half-open
        .writableStackTraceEnabled(false)
        .clock(clock)
        .build();
  }

  public static String name(Deployment d) {
    return d.provider() + "/" + d.model();
  }

  public Entry of(Deployment d) {
    return entries.computeIfAbsent(name(d), Entry::new);
  }

  /** Every deployment seen so far and its breaker state (for the {@code llm_circuit_state} gauge). */
  public Map<String, Entry> all() {
    return entries;
  }

  /**
   * Attempts abandoned after the provider accepted them ({@link OutcomeClassifier#mayBeBilled}) and then tried again:
   * the provider may still bill the abandoned one, which the tenant is not charged for.
   */
  public long possibleDuplicates() {
    return possibleDuplicates.sum();
  }

  void countPossibleDuplicate() {
    possibleDuplicates.increment();
  }

  public ResilienceConfig config() {
    return config;
  }

  /** Called with a deployment's name and the end of its open period whenever its breaker opens here. */
  public void onOpened(java.util.function.BiConsumer<String, Long> listener) {
    this.opened = listener;
  }

  /**
   * Another replica opened its breaker for {@code deployment} until {@code untilMillis} (epoch): refuse it here too,
   * so the whole fleet stops calling a failing deployment at once; each replica then probes it after that time.
   * Names that are not {@code provider/model} are ignored, and so are new names beyond a sane bound.
   */
  public void openedElsewhere(String deployment, long untilMillis) {
    int slash = deployment.indexOf('/');
    if (slash <= 0 || slash == deployment.length() - 1) return;
    Entry entry = entries.get(deployment);
    if (entry == null && entries.size() < 10_000) entry = entries.computeIfAbsent(deployment, Entry::new);
    if (entry != null) entry.openUntil(untilMillis);
  }
}
