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
 */
public record ServerConfig(Integer port, String host, Integer adminPort, String adminHost, String adminToken,
                           ByteSize maxBody, ByteSize maxHeaderSize, Duration shutdownGrace, Integer instances,
                           Duration sseKeepalive, Integer maxInFlight, Duration clientWriteTimeout) {
  public static final ServerConfig DEFAULTS = new ServerConfig(null, null, null, null, null, null, null, null, null, null, null,
      null);

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
  }

  public ServerConfig withPort(int newPort) {
    return new ServerConfig(newPort, host, adminPort, adminHost, adminToken, maxBody, maxHeaderSize, shutdownGrace,
        instances, sseKeepalive, maxInFlight, clientWriteTimeout);
  }

  @Override
  public String toString() {
    return "ServerConfig[port=" + port + ", adminPort=" + adminPort + ", adminToken=<redacted>]";
  }
}
