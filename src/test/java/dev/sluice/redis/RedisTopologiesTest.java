package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.RedisConfig;
import dev.sluice.config.RedisFailurePolicy;
import dev.sluice.config.TenantLimits;
import dev.sluice.ratelimit.LimitRequest;
import dev.sluice.ratelimit.LocalBudgetGuard;
import dev.sluice.ratelimit.LocalRateLimiter;
import dev.sluice.ratelimit.RateLimitDecision;
import dev.sluice.ratelimit.RedisQuotas;
import dev.sluice.testing.RedisServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The limiter through the two other topologies {@code redis.url} supports: a 3-master Redis Cluster (the hash tag
 * keeps one tenant's keys in one slot, so the multi-key script never hits CROSSSLOT) and a Sentinel-managed master.
 */
class RedisTopologiesTest {
  final List<RedisServer> servers = new ArrayList<>();
  final List<Vertx> vertxes = new ArrayList<>();

  @TempDir
  Path dir;

  @BeforeEach
  void vertx() {
    vertxes.add(Vertx.vertx());
  }

  @AfterEach
  void stop() throws Exception {
    vertxes.forEach(v -> v.close().await());
    for (RedisServer server : servers) server.close();
  }

  RedisQuotas limiter(String url) {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    return new RedisQuotas(vertx, RedisConnections.create(vertx, new RedisConfig(url, null, null)),
        RedisConfig.DEFAULT_COMMAND_TIMEOUT.toMillis(), new RedisBreaker(System::currentTimeMillis),
        new LocalRateLimiter(System::currentTimeMillis, 1), new LocalBudgetGuard(1), System::currentTimeMillis);
  }

  static long admitted(RedisQuotas a, RedisQuotas b, String tenant) {
    List<Future<RateLimitDecision>> decisions = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      decisions.add((i % 2 == 0 ? a : b).admit(new LimitRequest(tenant, "r" + i, new TenantLimits(20, 100_000, 100), 10,
          RedisFailurePolicy.FAIL_CLOSED)));
    }
    List<RateLimitDecision> all = Future.all(decisions).await().list();
    assertThat(all).noneMatch(RateLimitDecision::degraded);
    return all.stream().filter(RateLimitDecision::allowed).count();
  }

  @Test
  void clusterKeepsEachTenantsKeysInOneSlotAndLimitsStayExact() throws Exception {
    List<String> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      RedisServer node = RedisServer.start("--cluster-enabled", "yes", "--dir", dir.toString(),
          "--cluster-config-file", "nodes-" + i + ".conf");
      servers.add(node);
      nodes.add("127.0.0.1:" + node.port());
    }
    List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
    create.addAll(nodes);
    create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
    Process process = new ProcessBuilder(create).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(output).contains("[OK] All 16384 slots covered");
    // slot assignments spread by gossip: wait until every node agrees the cluster is up
    dev.sluice.testing.Await.until(vertxes.get(0), java.time.Duration.ofSeconds(30), "cluster_state:ok on every node", () -> {
      try {
        for (RedisServer node : servers) {
          if (!node.command("CLUSTER", "INFO").contains("cluster_state:ok")) return false;
        }
        return true;
      } catch (java.io.IOException e) {
        return false;
      }
    });

    String url = "redis-cluster://" + String.join(",", nodes);
    RedisQuotas a = limiter(url);
    RedisQuotas b = limiter(url);
    // several tenants land on different masters; each one's three keys share a slot
    for (String tenant : List.of("acme", "beta", "gamma")) assertThat(admitted(a, b, tenant)).as(tenant).isEqualTo(20);
  }

  @Test
  void sentinelUrlFindsTheMasterAndLimitsStayExact() throws Exception {
    RedisServer master = RedisServer.start();
    servers.add(master);
    RedisServer sentinel = RedisServer.sentinel(master, dir);
    servers.add(sentinel);
    String url = "redis-sentinel://127.0.0.1:" + sentinel.port() + "/mymaster";
    assertThat(admitted(limiter(url), limiter(url), "acme")).isEqualTo(20);
    assertThat(master.command("EXISTS", "sluice:acct:{t:acme}:" + java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString().substring(0, 7))).contains(":1");
  }
}
