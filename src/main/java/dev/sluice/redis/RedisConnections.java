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

  public static Redis create(Vertx vertx, RedisConfig config, int poolSize) {
    String url = config.url();
    RedisOptions options = new RedisOptions().setMaxPoolSize(poolSize).setMaxPoolWaiting(poolSize * 8)
        .setMaxWaitingHandlers(4096);
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

  private static List<String> endpoints(String hosts) {
    List<String> out = new ArrayList<>();
    for (String host : hosts.split(",")) {
      if (!host.isBlank()) out.add("redis://" + host.trim());
    }
    return out;
  }
}
