package dev.sluice.testing;

import dev.sluice.Gateway;
import dev.sluice.auth.KeyDigest;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import io.vertx.core.Vertx;
import java.util.Map;

/** A gateway started in-process on 127.0.0.1:0 from YAML, with a tenant {@code acme} whose key is {@link #KEY}. */
public final class TestGateway implements AutoCloseable {
  public static final String PEPPER = "test-pepper";
  public static final String KEY = "sk-sluice-test-acme-0123456789abcdefghijklmnopqrstuvwxyz";
  public static final String OTHER_KEY = "sk-sluice-test-beta-0123456789abcdefghijklmnopqrstuvwxyz";
  public static final String PROVIDER_KEY = "sk-provider-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
  /** The {@code server:} mapping of {@link #yaml(String, String)}. */
  public static final String DEFAULT_SERVER = "{ port: 0, instances: 1, shutdown-grace: 2s, sse-keepalive: 15s }";
  /**
   * The {@code timeouts:} mapping of provider {@code fake} in {@link #yaml(String, String)}: far beyond anything a
   * test waits for (and beyond {@link Http}'s 20 s client timeout), so no test races a scripted answer against a
   * gateway timeout on a loaded machine. A test of a timeout sets that one short with {@link #timeoutsWith} and
   * scripts an upstream that never sends what the timeout waits for.
   */
  public static final String DEFAULT_TIMEOUTS = "{ connect: 10s, headers: 60s, first-token: 60s, idle: 60s, total: 60s }";

  public final Gateway gateway;

  /** {@link #DEFAULT_TIMEOUTS} with some replaced, e.g. {@code timeoutsWith("idle: 500ms")}. */
  public static String timeoutsWith(String overrides) {
    java.util.Map<String, String> timeouts = new java.util.LinkedHashMap<>();
    for (String part : DEFAULT_TIMEOUTS.replaceAll("[{}]", "").split(",")) {
      String[] kv = part.split(":");
      timeouts.put(kv[0].trim(), kv[1].trim());
    }
    for (String part : overrides.split(",")) {
      String[] kv = part.split(":");
      if (timeouts.put(kv[0].trim(), kv[1].trim()) == null) throw new IllegalArgumentException("no timeout " + kv[0]);
    }
    StringBuilder out = new StringBuilder("{ ");
    timeouts.forEach((k, v) -> out.append(out.length() > 2 ? ", " : "").append(k).append(": ").append(v));
    return out.append(" }").toString();
  }

  private TestGateway(Gateway gateway) {
    this.gateway = gateway;
  }

  public static String digest(String key) {
    return new KeyDigest(PEPPER).configDigest(key);
  }

  /**
   * A config with provider {@code fake} (openai-compatible at {@code upstreamBaseUrl}, {@link #DEFAULT_TIMEOUTS}),
   * aliases {@code gpt-4o-mini} and {@code text-embedding-3-small} on it, tenant {@code acme} (all aliases) and
   * tenant {@code beta} (only {@code text-embedding-3-small}). {@code extra} is appended verbatim.
   */
  public static String yaml(String upstreamBaseUrl, String extra) {
    return yaml(upstreamBaseUrl, extra, DEFAULT_SERVER, DEFAULT_TIMEOUTS);
  }

  /** {@link #yaml(String, String)} with its {@code server:} mapping and provider {@code fake}'s timeouts replaced. */
  public static String yaml(String upstreamBaseUrl, String extra, String server, String timeouts) {
    return """
        server: %s
        security: { key-pepper: "%s" }
        providers:
          fake:
            type: openai-compatible
            base-url: %s
            api-key: "%s"
            max-connections: 8
            max-wait-queue: 4
            timeouts: %s
        models:
          gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ] }
          text-embedding-3-small: { deployments: [ { provider: fake, model: upstream-embed } ] }
        tenants:
          - id: acme
            keys: [ { id: acme-key-1, digest: "%s" } ]
          - id: beta
            keys: [ { id: beta-key-1, digest: "%s" } ]
            models: [ text-embedding-3-small ]
        %s
        """.formatted(server, PEPPER, upstreamBaseUrl, PROVIDER_KEY, timeouts, digest(KEY), digest(OTHER_KEY),
            withSingleAttempt(extra));
  }

  /**
   * Unless a test configures {@code resilience} itself, one attempt per request and no lasting deployment health
   * (no rest after a 401/429, breakers that never open): most tests script exactly one upstream answer per request
   * and assert what that one answer does; retries, fallback and breakers have their own tests.
   */
  private static String withSingleAttempt(String extra) {
    String e = extra == null ? "" : extra;
    return e.contains("resilience:") ? e
        : e + "\nresilience: { max-attempts: 1, disable-for: 1ms, rate-limit-cooldown: 1ms, breaker-window: 100, breaker-min-calls: 100, breaker-failure-rate: 100 }";
  }

  public static SluiceConfig config(String upstreamBaseUrl) {
    return ConfigLoader.parse(yaml(upstreamBaseUrl, ""), Map.of());
  }

  public static TestGateway start(Vertx vertx, String upstreamBaseUrl, String server, String timeouts) {
    return start(vertx, ConfigLoader.parse(yaml(upstreamBaseUrl, "", server, timeouts), Map.of()));
  }

  /** Starts a gateway from a complete YAML document (for configs unlike {@link #yaml}, e.g. a mock provider). */
  public static TestGateway startYaml(Vertx vertx, String yaml) {
    return start(vertx, ConfigLoader.parse(yaml, Map.of()));
  }

  public static TestGateway start(Vertx vertx, SluiceConfig config) {
    return new TestGateway(Gateway.start(vertx, config, 0).await());
  }

  public static TestGateway start(Vertx vertx, SluiceConfig config, java.time.Clock clock) {
    return new TestGateway(Gateway.start(vertx, config, 0, clock).await());
  }

  /** With the gateway's meters in {@code registry}, so a test can read them directly. */
  public static TestGateway start(Vertx vertx, SluiceConfig config, java.time.Clock clock,
                                  io.micrometer.core.instrument.MeterRegistry registry) {
    return new TestGateway(Gateway.start(vertx, config, 0, clock, registry).await());
  }

  public static TestGateway start(Vertx vertx, String upstreamBaseUrl) {
    return start(vertx, config(upstreamBaseUrl));
  }

  public int port() {
    return gateway.port();
  }

  /** The Prometheus scrape URL on the gateway's metrics listener (an ephemeral loopback port in tests). */
  public String metricsUrl() {
    return "http://127.0.0.1:" + gateway.metricsPort() + "/metrics";
  }

  /** {@code http://127.0.0.1:PORT/v1}, what an SDK takes as base URL. */
  public String baseUrl() {
    return "http://127.0.0.1:" + gateway.port() + "/v1";
  }

  @Override
  public void close() {
    gateway.stop().await();
  }
}
