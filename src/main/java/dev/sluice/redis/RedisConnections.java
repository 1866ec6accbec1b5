package dev.sluice.redis;

import dev.sluice.config.RedisConfig;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the pooled Redis client from {@code redis.url}: {@code redis://} or {@code rediss://} (standalone),
 * {@code redis-sentinel://host:26379,host2:26379/master-name} and {@code redis-cluster://host:6379,host2:6379}.
 */
public final class RedisConnections {
  private RedisConnections() {}

  /**
   * Pool sized for the load one replica can produce. Each command holds a connection until its reply, so the pool
   * bounds the commands in flight: 128 connections carry ≈ 100k commands/s at 1 ms each, more than a 2-core replica
   * can ask for, and Redis takes 10k clients. Waiting for a connection is part of the command timeout, so the queue is
   * deep (a burst waits microseconds, not the timeout); a full queue is our back-pressure and is not held against
   * Redis ({@link RedisFailure#isPoolBusy}).
   */
  public static final int POOL_SIZE = 128;
  public static final int POOL_WAITING = 16_384;

  public static Redis create(Vertx vertx, RedisConfig config) {
    return create(vertx, config, POOL_SIZE);
  }

  public static Redis create(Vertx vertx, RedisConfig config, int poolSize) {
    String url = config.url();
    RedisOptions options = new RedisOptions().setMaxPoolSize(poolSize).setMaxPoolWaiting(Math.max(POOL_WAITING, poolSize * 8))
        .setMaxWaitingHandlers(POOL_WAITING);
    // A Redis that does not answer SYNs must fail a connect in a second, not in the default minute.
    options.getNetClientOptions().setConnectTimeout(1_000).setTcpNoDelay(true);
    // No HELLO round trip per new connection (RESP2 is all we use): a burst right after start opens dozens of
    // connections at once, and each handshake was a round trip queued behind the others before the first command.
    options.setProtocolNegotiation(false);
    if (url.startsWith("redis-sentinel://")) {
      String rest = url.substring("redis-sentinel://".length());
      int slash = rest.indexOf('/');
      String hosts = slash < 0 ? rest : rest.substring(0, slash);
      String master = slash < 0 ? "mymaster" : rest.substring(slash + 1);
      options.setType(RedisClientType.SENTINEL).setRole(RedisRole.MASTER).setMasterName(master).setEndpoints(endpoints(hosts));
    } else if (url.startsWith("redis-cluster://")) {
      options.setType(RedisClientType.CLUSTER).setEndpoints(endpoints(url.substring("redis-cluster://".length())));
    } else {
      options.setType(RedisClientType.STANDALONE).setConnectionString(url);
    }
    return Redis.createClient(vertx, options);
  }

  /**
   * Where {@code url} points, safe to log: the scheme and the hosts (with ports and, for Sentinel, the master name),
   * without user, password, database or query parameters.
   */
  public static String describe(String url) {
    int schemeEnd = url.indexOf("://");
    if (schemeEnd < 0) return "<redacted>";
    String scheme = url.substring(0, schemeEnd);
    String rest = url.substring(schemeEnd + 3);
    int query = rest.indexOf('?');
    if (query >= 0) rest = rest.substring(0, query);
    int slash = rest.indexOf('/');
    String hosts = slash < 0 ? rest : rest.substring(0, slash);
    String path = slash < 0 ? "" : rest.substring(slash + 1);
    List<String> clean = new ArrayList<>();
    for (String host : hosts.split(",")) {
      int at = host.lastIndexOf('@');
      clean.add(at < 0 ? host.trim() : host.substring(at + 1).trim());
    }
    String suffix = scheme.equals("redis-sentinel") && !path.isEmpty() ? "/" + path : "";
    return scheme + "://" + String.join(",", clean) + suffix;
  }

  /** {@code text} with every password in {@code url} (user-info, {@code password=} parameter) replaced by {@code ***}. */
  public static String redact(String text, String url) {
    String out = text;
    for (String secret : secrets(url)) {
      if (!secret.isEmpty()) out = out.replace(secret, "***");
    }
    return out;
  }

  private static List<String> secrets(String url) {
    List<String> secrets = new ArrayList<>();
    int schemeEnd = url.indexOf("://");
    String rest = schemeEnd < 0 ? url : url.substring(schemeEnd + 3);
    for (String host : rest.split("[,/]")) {
      int at = host.lastIndexOf('@');
      if (at < 0) continue;
      String userInfo = host.substring(0, at);
      int colon = userInfo.indexOf(':');
      secrets.add(colon < 0 ? userInfo : userInfo.substring(colon + 1));
    }
    java.util.regex.Matcher param = java.util.regex.Pattern.compile("[?&]password=([^&]*)").matcher(url);
    while (param.find()) secrets.add(param.group(1));
    return secrets;
  }

  private static List<String> endpoints(String hosts) {
    List<String> out = new ArrayList<>();
    for (String host : hosts.split(",")) {
      if (!host.isBlank()) out.add("redis://" + host.trim());
    }
    return out;
  }
}
