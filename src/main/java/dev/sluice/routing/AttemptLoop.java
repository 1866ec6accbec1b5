package dev.sluice.routing;

import dev.sluice.config.Deployment;
import dev.sluice.config.ResilienceConfig;
import dev.sluice.routing.OutcomeClassifier.Outcome;
import dev.sluice.upstream.Cancellation;
import dev.sluice.upstream.Provider;
import dev.sluice.upstream.UpstreamFailure;
import dev.sluice.upstream.UpstreamReply;
import dev.sluice.upstream.UpstreamRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Runs the attempts of one request up to the commit point: deployments in order, skipping those whose
 * breaker is open or that rest after a 429 or an auth/quota failure; at most {@code max-attempts} attempts inside one
 * deadline; a different deployment is tried at once, the same one again only after full-jitter exponential backoff
 * (or the provider's retry-after when ≤ {@code retry-after-max}); and retries of the whole process are capped by a
 * retry budget so an outage cannot become a retry storm. Nothing here runs after the commit point. Hedging (parallel
 * attempts) is deliberately absent: it doubles paid calls; it would start a second {@code Run} here.
 */
public final class AttemptLoop {
  /** One switch from a failed deployment to another, with the bounded reason. */
  public record Fallback(String from, String to, String reason) {}

  /** One failed attempt: the provider tried and why it failed ({@link UpstreamFailure#cause()}). */
  public record FailedAttempt(String provider, String cause) {}

  private final Vertx vertx;
  private final DeploymentHealth health;
  private final AtomicInteger retriesInFlight;
  private final IntSupplier requestsInFlight;
  private final LongSupplier clock;

  /**
   * @param retriesInFlight process-wide count of retries waiting or running (the retry budget)
   * @param requestsInFlight process-wide count of requests in progress
   */
  public AttemptLoop(Vertx vertx, DeploymentHealth health, AtomicInteger retriesInFlight, IntSupplier requestsInFlight,
                     LongSupplier clock) {
    this.vertx = vertx;
    this.health = health;
    this.retriesInFlight = retriesInFlight;
    this.requestsInFlight = requestsInFlight;
    this.clock = clock;
  }

  /**
   * @param providers provider name → this event loop's provider instance for the request's config snapshot
   * @param requestFor builds the attempt's request for a deployment (the upstream model name differs per deployment)
   */
  public Future<Delivery> execute(Route route, Function<String, Provider> providers,
                                  Function<Deployment, UpstreamRequest> requestFor, Cancellation cancellation) {
    Run run = new Run(route, providers, requestFor, cancellation);
    run.attempt(run.choose(null));
    return run.promise.future();
  }

  private final class Run {
    final Route route;
    final Function<String, Provider> providers;
    final Function<Deployment, UpstreamRequest> requestFor;
    final Cancellation cancellation;
    final Promise<Delivery> promise = Promise.promise();
    final long deadline;
    final List<Fallback> fallbacks = new ArrayList<>(1);
    /** Each failed attempt's {@link UpstreamFailure#cause()}, in order. */
    final List<FailedAttempt> causes = new ArrayList<>(1);
    /** Deployments whose half-open breaker had no probe left for this request. */
    List<Deployment> refused;
    /** Attempts abandoned after the provider accepted them: it may bill them; the tenant is not charged. */
    List<Deployment> unbilled;
    final ResilienceConfig config = health.config();
    int attempts;
    UpstreamFailure last;
    Deployment lastDeployment;

    Run(Route route, Function<String, Provider> providers, Function<Deployment, UpstreamRequest> requestFor,
        Cancellation cancellation) {
      this.route = route;
      this.providers = providers;
      this.requestFor = requestFor;
      this.cancellation = cancellation;
      this.deadline = clock.getAsLong() + config.deadline().toMillis();
    }

    /**
     * The best available deployment except {@code not}, holding its breaker's permission to call: the lowest priority
     * that has one not resting and whose breaker admits calls; among several of that priority, a weighted random choice
     * (load balancing). A half-open breaker whose probes are all taken refuses; then the next best is chosen.
     */
    Deployment choose(Deployment not) {
      while (true) {
        Deployment d = pick(not);
        if (d == null || health.of(d).tryAcquire()) return d;
        if (refused == null) refused = new ArrayList<>(2);
        refused.add(d);
      }
    }

    private Deployment pick(Deployment not) {
      List<Deployment> all = route.deployments();
      int best = Integer.MAX_VALUE;
      List<Deployment> candidates = new ArrayList<>(2);
      for (int i = 0; i < all.size(); i++) {
        Deployment d = all.get(i);
        if (d.equals(not) || (refused != null && refused.contains(d))) continue;
        DeploymentHealth.Entry entry = health.of(d);
        if (entry.resting() || entry.open()) continue;
        int priority = d.priority() == null ? i : d.priority();
        if (priority < best) {
          best = priority;
          candidates.clear();
        }
        if (priority == best) candidates.add(d);
      }
      if (candidates.size() <= 1) return candidates.isEmpty() ? null : candidates.get(0);
      int total = 0;
      for (Deployment d : candidates) total += d.weight();
      int pick = ThreadLocalRandom.current().nextInt(total);
      for (Deployment d : candidates) {
        pick -= d.weight();
        if (pick < 0) return d;
      }
      return candidates.get(candidates.size() - 1);
    }

    /** One attempt to {@code d}, whose breaker permission the caller holds. */
    void attempt(Deployment d) {
      if (d == null) {
        fail();
        return;
      }
      DeploymentHealth.Entry entry = health.of(d);
      if (cancellation.isCancelled()) {
        entry.released();
        promise.tryFail(RouteFailure.upstream(route.alias(), UpstreamFailure.of(UpstreamFailure.Kind.CANCELLED, "client went away"),
            d.provider(), attempts, unbilled(), List.copyOf(causes)));
        return;
      }
      attempts++;
      lastDeployment = d;
      Future<UpstreamReply> sent;
      try {
        sent = providers.apply(d.provider()).send(requestFor.apply(d));
      } catch (RuntimeException bug) {
        entry.released();
        promise.tryFail(bug); // answered as a 500 by the caller; never a request left hanging
        return;
      }
      sent.onComplete(ar -> {
        if (ar.succeeded()) {
          entry.succeeded(); // the commit point: a long stream after it is never a breaker failure
          promise.tryComplete(new Delivery(ar.result(), d, attempts, List.copyOf(fallbacks), unbilled(), List.copyOf(causes)));
          return;
        }
        UpstreamFailure failure = ar.cause() instanceof UpstreamFailure u ? u
            : UpstreamFailure.connect(ar.cause());
        if (OutcomeClassifier.classify(failure) == Outcome.RETRYABLE) entry.failed(failure);
        else entry.released(); // 429, auth, client errors and cancels say nothing about the deployment's health
        if (OutcomeClassifier.mayBeBilled(failure)) {
          if (unbilled == null) unbilled = new ArrayList<>(2);
          unbilled.add(d);
        }
        onFailure(d, failure);
      });
    }

    List<Deployment> unbilled() {
      return unbilled == null ? List.of() : List.copyOf(unbilled);
    }

    void onFailure(Deployment d, UpstreamFailure failure) {
      last = failure;
      causes.add(new FailedAttempt(d.provider(), failure.cause()));
      Outcome outcome = OutcomeClassifier.classify(failure);
      DeploymentHealth.Entry entry = health.of(d);
      switch (outcome) {
        case CANCELLED, CLIENT_ERROR -> {
          fail();
          return;
        }
        case RATE_LIMITED -> entry.restFor(failure.retryAfterMillis() > 0 ? failure.retryAfterMillis()
            : config.rateLimitCooldown().toMillis());
        case DISABLED -> entry.restProviderFor(config.disableFor().toMillis());
        case RETRYABLE -> { }
      }
      if (attempts >= config.maxAttempts() || clock.getAsLong() >= deadline) {
        fail();
        return;
      }
      Deployment next = choose(d);
      if (next != null) {
        if (OutcomeClassifier.mayBeBilled(failure)) health.countPossibleDuplicate(); // trying again: it may bill both
        fallbacks.add(new Fallback(d.provider(), next.provider(), OutcomeClassifier.reason(failure)));
        attempt(next);
        return;
      }
      // Only this deployment is left: wait and try it again, if that can help and the budgets allow.
      long wait;
      if (outcome == Outcome.RATE_LIMITED) {
        wait = failure.retryAfterMillis() > 0 ? failure.retryAfterMillis() : config.rateLimitCooldown().toMillis();
        if (wait > config.retryAfterMax().toMillis()) {
          fail();
          return;
        }
      } else if (outcome == Outcome.RETRYABLE && !entry.open()) {
        long cap = Math.min(config.backoffCap().toMillis(), config.backoffBase().toMillis() << Math.min(20, attempts - 1));
        wait = ThreadLocalRandom.current().nextLong(cap + 1);
      } else {
        fail();
        return;
      }
      if (clock.getAsLong() + wait >= deadline || !takeRetryBudget()) {
        fail();
        return;
      }
      if (OutcomeClassifier.mayBeBilled(failure)) health.countPossibleDuplicate();
      vertx.setTimer(Math.max(1, wait), id -> {
        retriesInFlight.decrementAndGet();
        if (health.of(d).tryAcquire()) attempt(d);
        else fail(); // its breaker opened meanwhile, or is half-open with every probe taken
      });
    }

    /** Concurrent retries ≤ max(floor, percent × in-flight requests). */
    boolean takeRetryBudget() {
      int allowed = Math.max(config.retryBudgetMin(), requestsInFlight.getAsInt() * config.retryBudgetPercent() / 100);
      while (true) {
        int current = retriesInFlight.get();
        if (current >= allowed) return false;
        if (retriesInFlight.compareAndSet(current, current + 1)) return true;
      }
    }

    void fail() {
      if (last == null) {
        // nothing was tried: every deployment is open or resting
        long wait = Long.MAX_VALUE;
        for (Deployment d : route.deployments()) wait = Math.min(wait, health.of(d).waitMillis());
        promise.tryFail(RouteFailure.unavailable(route.alias(), Math.max(1000, wait == Long.MAX_VALUE ? 1000 : wait)));
        return;
      }
      promise.tryFail(RouteFailure.upstream(route.alias(), last, lastDeployment.provider(), attempts, unbilled(),
          List.copyOf(causes)));
    }
  }
}
