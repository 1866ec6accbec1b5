package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.sluice.config.ConfigLoader;
import dev.sluice.redis.LuaScript;
import dev.sluice.testing.Await;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.Http;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.RedisServer;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code /health/ready} with Redis: ready only once Redis is, unless every tenant may fail open. */
class ReadinessTest {
  static final String PASSWORD = "s3cret-redis-pass";
  Vertx vertx;
  FakeUpstream upstream;
  TestGateway gateway;
  RedisServer redis;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    if (gateway != null) gateway.close();
    upstream.close();
    vertx.close().await();
    if (redis != null) redis.close();
  }

  TestGateway start(String redisUrl, boolean failClosed) {
    String yaml = TestGateway.yaml(upstream.baseUrl(), redisUrl == null ? "" : "redis: { url: \"" + redisUrl + "\" }");
    if (failClosed) {
      yaml = yaml.replace("keys: [ { id: acme-key-1,", "on-redis-failure: fail-closed\n    keys: [ { id: acme-key-1,");
    }
    gateway = TestGateway.start(vertx, ConfigLoader.parse(yaml, Map.of()));
    return gateway;
  }

  HttpResponse<String> ready() throws Exception {
    return Http.get("http://127.0.0.1:" + gateway.port() + "/health/ready", null);
  }

  @Test
  void aFailClosedTenantKeepsTheReplicaUnreadyUntilRedisAnswersAndTheLogNamesTheHostWithoutThePassword() throws Exception {
    int port = RedisServer.freePort();
    try (LogCapture logs = LogCapture.start(Level.DEBUG)) {
      start("redis://:" + PASSWORD + "@127.0.0.1:" + port, true);
      HttpResponse<String> before = ready();
      assertThat(before.statusCode()).isEqualTo(503);
      assertThat(new JsonObject(before.body()).getString("redis")).isEqualTo("down");
      assertThat(new JsonObject(before.body()).getString("status")).isEqualTo("starting");
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l.text()).contains("WARN", "redis://127.0.0.1:" + port, "unreachable"));

      redis = RedisServer.startOn(port, "--requirepass", PASSWORD);
      Await.until(vertx, Duration.ofSeconds(20), "ready once Redis answers", () -> ready().statusCode() == 200);
      JsonObject after = new JsonObject(ready().body());
      assertThat(after.getString("redis")).isEqualTo("up");
      assertThat(after.getDouble("redis_rtt_ms")).isNotNegative();
      assertThat(logs.lines()).allSatisfy(l -> assertThat(l.text()).doesNotContain(PASSWORD));
    }
    assertThat(scriptsLoaded()).as("every script is in Redis's script cache before the first request").isTrue();
    assertThat(connectedClients()).as("connections opened before ready").isGreaterThanOrEqualTo(16);
  }

  @Test
  void whenEveryTenantFailsOpenAnUnreachableRedisLeavesTheReplicaReadyAndSaysDown() throws Exception {
    start("redis://127.0.0.1:" + RedisServer.freePort(), false);
    HttpResponse<String> response = ready();
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()).getString("redis")).isEqualTo("down");
  }

  @Test
  void aReachableRedisIsWarmedBeforeTheGatewayReportsStarted() throws Exception {
    redis = RedisServer.start();
    start(redis.url(), true);
    HttpResponse<String> response = ready();
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()).getString("redis")).isEqualTo("up");
  }

  @Test
  void withoutRedisReadinessSaysOff() throws Exception {
    start(null, false);
    HttpResponse<String> response = ready();
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()).getString("redis")).isEqualTo("off");
  }

  @Test
  void everyLuaScriptShippedIsPreloaded() throws Exception {
    Path root = Path.of("src/main/resources/dev/sluice");
    List<String> shipped;
    try (Stream<Path> files = Files.walk(root)) {
      shipped = files.filter(f -> f.toString().endsWith(".lua")).map(f -> f.getFileName().toString()).sorted()
          .collect(Collectors.toList());
    }
    assertThat(shipped).isNotEmpty();
    assertThat(Gateway.REDIS_SCRIPTS.stream().map(LuaScript::name).sorted().collect(Collectors.toList()))
        .as("Gateway.REDIS_SCRIPTS").isEqualTo(shipped);
  }

  boolean scriptsLoaded() throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("SCRIPT", "EXISTS"));
    Gateway.REDIS_SCRIPTS.forEach(script -> args.add(script.sha()));
    return cli(args.toArray(String[]::new)).lines().allMatch(l -> l.trim().equals("1"));
  }

  int connectedClients() throws Exception {
    return cli("INFO", "clients").lines().filter(l -> l.startsWith("connected_clients:"))
        .mapToInt(l -> Integer.parseInt(l.substring("connected_clients:".length()).trim())).findFirst().orElse(0);
  }

  /** redis-cli with the password (the raw helper cannot AUTH). */
  String cli(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("redis-cli", "-p", Integer.toString(redis.port()), "-a", PASSWORD,
        "--no-auth-warning"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    process.waitFor();
    return out;
  }
}
