package dev.sluice.http;

import dev.sluice.cache.CacheDirective;
import dev.sluice.cache.CacheKey;
import dev.sluice.cache.CachePolicy;
import dev.sluice.cache.CachedResponse;
import dev.sluice.cache.SingleFlight;
import dev.sluice.cache.SseReplay;
import dev.sluice.cache.StreamAssembler;
import dev.sluice.upstream.Endpoint;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Consumer;

/**
 * The cache step of the pipeline: coalesce identical cacheable requests behind one leader per process, which looks the key
 * up and serves a hit, or goes upstream (after asking the fleet) and stores its complete answer; its followers get
 * whatever it got. A leader that fails passes its failure to the followers;
 * a leader whose answer cannot be shared (truncated, filtered, cancelled) releases them to go upstream themselves.
 */
final class CacheStep {
  private final Vertx vertx;
  private final Services services;

  CacheStep(Vertx vertx, Services services) {
    this.vertx = vertx;
    this.services = services;
  }

  /**
   * @param upstream continues the pipeline to the provider (with {@code ex.cacheWrite} set when the answer is to be
   *     stored)
   * @param serve answers from a stored or shared response
   */
  void run(RoutingContext ctx, Exchange ex, JsonObject body, Endpoint endpoint, Runnable upstream, Consumer<CachedResponse> serve) {
    CacheDirective directive = CachePolicy.decide(ex.key.tenant().cache(), endpoint == Endpoint.EMBEDDINGS, body,
        ctx.request().getHeader("cache-control"));
    ex.cacheStatus = directive.status();
    if (!directive.cacheable()) {
      upstream.run();
      return;
    }
    String tenant = ex.key.tenantId();
    String key = CacheKey.of(tenant, endpoint.label(), ex.alias, directive.namespace(), body);
    if (!directive.read()) {
      ex.cacheWrite = new CacheWrite(ex, key, directive, null, false, directive.write());
      upstream.run();
      return;
    }
    // Coalesce first: only this process's leader for the key asks Redis (one lookup, one lock attempt per replica
    // instead of one per request), and its followers share its answer even when Redis cannot be asked at all.
    SingleFlight.Join join = services.flights().join(key);
    if (!join.isLeader()) {
      follow(ctx, ex, directive, join.follower(), upstream, serve);
      return;
    }
    SingleFlight.Lead lead = join.lead();
    services.cache().get(tenant, key, endpoint.label(), ex.alias).onComplete(ar -> {
      CachedResponse hit = ar.succeeded() ? ar.result() : null;
      if (hit != null && fresh(hit, directive)) {
        lead.complete(hit); // local followers are served even if this client has left
        if (ex.isSettled()) return;
        ex.cacheStatus = "HIT";
        serve.accept(hit);
        return;
      }
      if (ex.isSettled()) { // the client left: hand the lead on
        lead.fail(new NotShared());
        return;
      }
      if (ar.failed()) {
        // the cache is unavailable: don't wait for it nor write to it, but still answer the local followers
        ex.cacheStatus = "BYPASS";
        ex.cacheWrite = new CacheWrite(ex, key, directive, lead, false, false);
        upstream.run();
        return;
      }
      leadAcrossReplicas(ex, key, endpoint, directive, lead, upstream, serve);
    });
  }

  /** A local follower: served the leader's answer, or sent upstream itself when the leader had none to share. */
  private void follow(RoutingContext ctx, Exchange ex, CacheDirective directive, io.vertx.core.Future<CachedResponse> leader,
                      Runnable upstream, Consumer<CachedResponse> serve) {
    Context context = vertx.getOrCreateContext();
    leader.onComplete(shared -> context.runOnContext(v -> {
      if (ex.isSettled()) return;
      if (shared.succeeded() && fresh(shared.result(), directive)) {
        ex.cacheStatus = "HIT";
        serve.accept(shared.result());
      } else if (shared.succeeded() || shared.cause() instanceof NotShared) {
        upstream.run(); // too old for this request's max-age, or nothing to share
      } else {
        ctx.fail(shared.cause());
      }
    }));
  }

  /**
   * This process's leader for {@code key} asks the fleet first: if another replica is already fetching it, wait for
   * that one and serve its stored answer (to this request and to the local followers); if it stored nothing (failed,
   * not shareable, its lock expired), or the fleet cannot be asked, go upstream as the leader.
   */
  private void leadAcrossReplicas(Exchange ex, String key, Endpoint endpoint, CacheDirective directive,
                                  SingleFlight.Lead lead, Runnable upstream, Consumer<CachedResponse> serve) {
    String tenant = ex.key.tenantId();
    Consumer<Boolean> goUpstream = fleetLock -> {
      ex.cacheWrite = new CacheWrite(ex, key, directive, lead, fleetLock, directive.write());
      upstream.run();
    };
    if (!directive.write()) { // a no-store answer is no use to the fleet: don't make other replicas wait for it
      goUpstream.accept(false);
      return;
    }
    services.sharedFlights().tryLead(tenant, key).onComplete(ar -> {
      boolean fleetLeader = ar.succeeded() && ar.result();
      if (ex.isSettled()) { // the client left meanwhile: hand the lead on
        if (fleetLeader) services.sharedFlights().release(tenant, key);
        lead.fail(new NotShared());
        return;
      }
      if (fleetLeader || ar.failed()) {
        goUpstream.accept(fleetLeader);
        return;
      }
      services.sharedFlights().awaitLeader(tenant, key)
          .compose(v -> services.cache().get(tenant, key, endpoint.label(), ex.alias))
          .onComplete(read -> {
            CachedResponse shared = read.succeeded() ? read.result() : null;
            if (shared != null && fresh(shared, directive)) {
              lead.complete(shared); // local followers are served even if this client has left
              if (ex.isSettled()) return;
              ex.cacheStatus = "HIT";
              serve.accept(shared);
            } else if (ex.isSettled()) {
              lead.fail(new NotShared());
            } else {
              goUpstream.accept(false); // the other replica stored nothing: fetch it ourselves
            }
          });
    });
  }

  private boolean fresh(CachedResponse hit, CacheDirective directive) {
    return directive.maxAgeSeconds() < 0 || services.clock().millis() - hit.createdMillis() <= directive.maxAgeSeconds() * 1000;
  }

  /** Followers of a leader whose answer cannot be shared go upstream on their own. */
  static final class NotShared extends RuntimeException {
    NotShared() {
      super("leader's answer is not shareable", null, false, false);
    }
  }

  /** The leader's (or a refresh's) obligation: store a complete success and release followers, exactly once. */
  final class CacheWrite {
    private final Exchange ex;
    private final String key;
    private final CacheDirective directive;
    private final SingleFlight.Lead lead;
    /** Whether this request holds the fleet's lock on {@code key} (released once its outcome is known). */
    private final boolean fleetLock;
    /** Whether a complete answer is written to the cache (not for no-store, nor while the cache is unavailable). */
    private final boolean store;
    private StreamAssembler assembler;
    private boolean done;

    CacheWrite(Exchange ex, String key, CacheDirective directive, SingleFlight.Lead lead, boolean fleetLock, boolean store) {
      this.ex = ex;
      this.store = store;
      this.key = key;
      this.directive = directive;
      this.lead = lead;
      this.fleetLock = fleetLock;
    }

    private void releaseFleet() {
      if (fleetLock) services.sharedFlights().release(ex.key.tenantId(), key);
    }

    void onChunk(JsonObject chunk) {
      if (done) return;
      if (assembler == null) assembler = new StreamAssembler();
      assembler.add(chunk);
    }

    /** The stream ended with [DONE]. */
    void onStreamComplete() {
      onComplete(assembler == null ? null : assembler.completion());
    }

    /** A complete JSON answer (before any per-client conversion). */
    void onComplete(JsonObject response) {
      if (done) return;
      boolean complete = "embeddings".equals(ex.endpoint) ? SseReplay.isCompleteEmbedding(response) : SseReplay.isCompleteChat(response);
      if (!complete) {
        abandon();
        return;
      }
      done = true;
      CachedResponse entry = new CachedResponse(ex.key.tenantId(), ex.endpoint, ex.alias, services.clock().millis(), response);
      if (store) {
        // the fleet's followers read the entry once the lock is gone: store first, then release
        services.cache().put(key, entry, directive.ttl()).onComplete(v -> releaseFleet());
      } else {
        releaseFleet();
      }
      if (lead != null) lead.complete(entry);
    }

    /** The upstream failed before the commit point: followers get the same failure; nothing is stored. */
    void onFailure(Throwable failure) {
      if (done) return;
      done = true;
      releaseFleet();
      if (lead != null) lead.fail(failure);
    }

    /** Truncated, filtered, interrupted or cancelled: nothing is stored and followers go upstream themselves. */
    void abandon() {
      if (done) return;
      done = true;
      releaseFleet();
      if (lead != null) lead.fail(new NotShared());
    }
  }
}
