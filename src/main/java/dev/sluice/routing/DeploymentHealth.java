package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.config.ResilienceConfig;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import dev.sluice.upstream.UpstreamFailure;
import dev.sluice.upstream.UpstreamReply;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Process-wide health of every deployment: one vertx-circuit-breaker each (created once; its own operation timeout
 * disabled so long streams are never failures — outcomes are recorded at the commit point), plus cool-down
 * (after a provider 429) and disable (after a provider auth or quota failure) deadlines.
 */
public final class DeploymentHealth {
  /** A deployment's breaker and rest periods. */
  public final class Entry {
    final CircuitBreaker breaker;
    final AtomicLong openedAt = new AtomicLong();
    final AtomicLong restUntil = new AtomicLong();
    final AtomicLong providerRestUntil;

    Entry(String name) {
      providerRestUntil = providers.computeIfAbsent(name.substring(0, name.indexOf('/')), p -> new AtomicLong());
      breaker = CircuitBreaker.create("sluice-" + name, vertx, new CircuitBreakerOptions()
          .setMaxFailures(config.breakerFailures())
          .setFailuresRollingWindow(config.breakerWindow().toMillis())
          .setResetTimeout(config.breakerOpen().toMillis())
          .setTimeout(-1)
          .setNotificationAddress(null));
      breaker.openHandler(v -> openedAt.set(clock.getAsLong()));
      // Only failures that say the deployment is unhealthy count; 429s, auth and client errors do not.
      breaker.<UpstreamReply>failurePolicy(f -> f.failed() && (!(f.cause() instanceof UpstreamFailure u)
          || OutcomeClassifier.classify(u) == OutcomeClassifier.Outcome.RETRYABLE));
    }

    /** 0 closed, 1 half-open, 2 open (the {@code llm_circuit_state} encoding). */
    public int state() {
      CircuitBreakerState s = breaker.state();
      return s == CircuitBreakerState.CLOSED ? 0 : s == CircuitBreakerState.HALF_OPEN ? 1 : 2;
    }

    boolean open() {
      return breaker.state() == CircuitBreakerState.OPEN;
    }

    boolean resting() {
      long now = clock.getAsLong();
      return restUntil.get() > now || providerRestUntil.get() > now;
    }

    /** Milliseconds until this deployment may be tried again (0 if it may now). */
    long waitMillis() {
      long now = clock.getAsLong();
      long rest = Math.max(0, Math.max(restUntil.get(), providerRestUntil.get()) - now);
      long open = open() ? Math.max(0, openedAt.get() + config.breakerOpen().toMillis() - now) : 0;
      return Math.max(rest, open);
    }

    /** This deployment rests (a model-specific rate limit). */
    void restFor(long millis) {
      restUntil.accumulateAndGet(clock.getAsLong() + millis, Math::max);
    }

    /** Every deployment of this provider rests (its key or account is the problem, not the model). */
    void restProviderFor(long millis) {
      providerRestUntil.accumulateAndGet(clock.getAsLong() + millis, Math::max);
    }
  }

  private final Vertx vertx;
  private final ResilienceConfig config;
  private final LongSupplier clock;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.LongAdder possibleDuplicates = new java.util.concurrent.atomic.LongAdder();
  private final Map<String, AtomicLong> providers = new ConcurrentHashMap<>();

  public DeploymentHealth(Vertx vertx, ResilienceConfig config, LongSupplier clock) {
    this.vertx = vertx;
    this.config = config;
    this.clock = clock;
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
   * Attempts abandoned after the request reached the provider (timeouts), then tried again elsewhere: the provider
   * may still bill the abandoned one, which the tenant is not charged for.
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
}
