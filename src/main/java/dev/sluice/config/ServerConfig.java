package dev.sluice.config;

import java.time.Duration;

/**
 * Client and admin listeners, request limits and shutdown behaviour.
 *
 * @param instances number of gateway verticles; 0 means one per core
 * @param sseKeepalive idle time after which a {@code : ping} comment is written to a streaming client
 * @param maxInFlight process-wide cap on concurrent API requests; beyond it requests get 503 {@code overloaded}
 * @param clientWriteTimeout a streaming client that reads nothing for this long is disconnected (and the upstream
 *     cancelled) instead of holding a paused upstream forever
 * @param headerTimeout a request's line and headers must arrive within this long of its first byte (or of the connection
 *     opening); otherwise 408 and the connection closes
 * @param bodyIdleTimeout longest silence while a request body is arriving; then 408 and the connection closes
 * @param bodyTimeout a whole request body must arrive within this long of its headers; then 408 and the connection closes
 * @param keepAliveTimeout an idle keep-alive connection (no request in progress) is closed after this long
 * @param maxUploadsPerTenant requests of one tenant whose body is still arriving; beyond it 429 (slow uploads of one
 *     tenant cannot pin the process)
 * @param maxConnectionsPerAddress open connections from one client address; 0 turns the check off (the default: behind a
 *     proxy every client shares the proxy's address)
 * @param metrics where {@code GET /metrics} is served: {@code HOST:PORT} (its own listener), {@code api} (the client
 *     port, public) or {@code off}
 */
public record ServerConfig(Integer port, String host, Integer adminPort, String adminHost, String adminToken,
                           ByteSize maxBody, ByteSize maxHeaderSize, Duration shutdownGrace, Integer instances,
                           Duration sseKeepalive, Integer maxInFlight, Duration clientWriteTimeout,
                           Duration headerTimeout, Duration bodyIdleTimeout, Duration bodyTimeout, Duration keepAliveTimeout,
                           Integer maxUploadsPerTenant, Integer maxConnectionsPerAddress, String metrics) {
  public static final ServerConfig DEFAULTS = new ServerConfig(null, null, null, null, null, null, null, null, null, null, null,
      null, null, null, null, null, null, null, null);

  public ServerConfig {
    port = Checks.port("port", port, 8080);
    host = host == null ? "0.0.0.0" : host;
    adminPort = Checks.port("admin-port", adminPort, 8081);
    adminHost = adminHost == null ? "127.0.0.1" : adminHost;
    adminToken = adminToken == null ? "" : adminToken;
    maxBody = maxBody == null ? ByteSize.ofMiB(10) : maxBody;
    if (maxBody.bytes() < 1024) throw new IllegalArgumentException("max-body: " + maxBody + " (expected: >= 1KiB)");
    maxHeaderSize = maxHeaderSize == null ? new ByteSize(8192) : maxHeaderSize;
    if (maxHeaderSize.bytes() < 1024 || maxHeaderSize.bytes() > 1024 * 1024) {
      throw new IllegalArgumentException("max-header-size: " + maxHeaderSize + " (expected: 1KiB..1MiB)");
    }
    shutdownGrace = Checks.positive("shutdown-grace", shutdownGrace, Duration.ofSeconds(30));
    instances = Checks.nonNegative("instances", instances, 0);
    sseKeepalive = Checks.positive("sse-keepalive", sseKeepalive, Duration.ofSeconds(15));
    maxInFlight = Checks.positive("max-in-flight", maxInFlight, 10_000);
    clientWriteTimeout = Checks.positive("client-write-timeout", clientWriteTimeout, Duration.ofSeconds(60));
    // SDKs send the head in one write: 10 s only bites on clients that dribble it (slowloris).
    headerTimeout = Checks.positive("header-timeout", headerTimeout, Duration.ofSeconds(10));
    // A chat body is usually a single write; 30 s of silence mid-body is a stalled or hostile client.
    bodyIdleTimeout = Checks.positive("body-idle-timeout", bodyIdleTimeout, Duration.ofSeconds(30));
    // The default max-body (10 MiB) at a poor 100 KB/s uplink takes ~105 s: 2 minutes leaves room, not hours.
    bodyTimeout = Checks.positive("body-timeout", bodyTimeout, Duration.ofMinutes(2));
    // Longer than the 60 s idle timeout of common load balancers, so the proxy closes first and never reuses a
    // connection the gateway is closing.
    keepAliveTimeout = Checks.positive("keep-alive-timeout", keepAliveTimeout, Duration.ofSeconds(75));
    maxUploadsPerTenant = Checks.positive("max-uploads-per-tenant", maxUploadsPerTenant, 64);
    maxConnectionsPerAddress = Checks.nonNegative("max-connections-per-address", maxConnectionsPerAddress, 0);
    metrics = metrics == null || metrics.isBlank() ? "127.0.0.1:9464" : metrics.trim();
    metricsListener(metrics); // validates
  }

  /** Where {@code /metrics} is served: its own listener (host and port), the client port, or nowhere. */
  public record MetricsListener(boolean onApiPort, String host, int port) {
    public boolean off() {
      return !onApiPort && host == null;
    }
  }

  public MetricsListener metricsListener() {
    return metricsListener(metrics);
  }

  private static MetricsListener metricsListener(String value) {
    // YAML 1.1 reads an unquoted off as false
    if (value.equals("off") || value.equals("false")) return new MetricsListener(false, null, -1);
    if (value.equals("api")) return new MetricsListener(true, null, -1);
    int colon = value.lastIndexOf(':');
    String expected = " (expected: HOST:PORT such as 127.0.0.1:9464, api or off)";
    if (colon <= 0) throw new IllegalArgumentException("metrics: " + value + expected);
    try {
      int port = Integer.parseInt(value.substring(colon + 1));
      if (port < 0 || port > 65535) throw new IllegalArgumentException("metrics: " + value + expected);
      String host = value.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
      return new MetricsListener(false, host, port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("metrics: " + value + expected);
    }
  }

  public ServerConfig withPort(int newPort) {
    return new ServerConfig(newPort, host, adminPort, adminHost, adminToken, maxBody, maxHeaderSize, shutdownGrace,
        instances, sseKeepalive, maxInFlight, clientWriteTimeout, headerTimeout, bodyIdleTimeout, bodyTimeout,
        keepAliveTimeout, maxUploadsPerTenant, maxConnectionsPerAddress, metrics);
  }

  @Override
  public String toString() {
    return "ServerConfig[port=" + port + ", adminPort=" + adminPort + ", adminToken=<redacted>]";
  }
}
