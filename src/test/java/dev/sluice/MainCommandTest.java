package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.auth.KeyDigest;
import dev.sluice.testing.RedisServer;
import dev.sluice.testing.TestGateway;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real command line in a child JVM (SPEC §3): config validation, {@code hash-key}, and failing before binding. */
class MainCommandTest {
  static final String BROKEN_FIELD = "tenants[1].limits.requests-per-minute: -5 (expected: > 0)";

  @TempDir
  Path dir;

  record Run(int exitCode, String stdout, String stderr, long millis) {}

  @Test
  void validateConfigOnABrokenFileExitsNonZeroAndNamesTheField() throws Exception {
    Run run = sluice(Map.of(), "--config", write(broken()).toString(), "--validate-config");
    assertThat(run.exitCode()).isNotZero();
    assertThat(run.stderr()).contains(BROKEN_FIELD);
    assertNoSecrets(run);
  }

  @Test
  void validateConfigOnAValidFileExitsZero() throws Exception {
    Run run = sluice(Map.of(), "--config", write(TestGateway.yaml("http://127.0.0.1:9/v1", "")).toString(), "--validate-config");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.stdout()).contains("configuration is valid (2 tenants, 2 aliases, 1 providers)");
    assertNoSecrets(run);
  }

  @Test
  void validateConfigTakesThePathFromTheEnvironment() throws Exception {
    Run run = sluice(Map.of("SLUICE_CONFIG", write(broken()).toString()), "--validate-config");
    assertThat(run.exitCode()).isNotZero();
    assertThat(run.stderr()).contains(BROKEN_FIELD);
  }

  @Test
  void hashKeyPrintsTheSameDigestAsKeyDigest() throws Exception {
    Run run = sluice(Map.of("SLUICE_KEY_PEPPER", "cli-pepper"), "hash-key", TestGateway.KEY);
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.stdout().trim()).isEqualTo(new KeyDigest("cli-pepper").configDigest(TestGateway.KEY));
  }

  @Test
  void brokenConfigFailsStartupQuicklyWithoutBindingAPort() throws Exception {
    Run run = sluice(Map.of(), "--config", write(broken()).toString());
    assertThat(run.exitCode()).isNotZero();
    assertThat(run.stderr()).contains("invalid configuration", BROKEN_FIELD);
    assertThat(run.stdout() + run.stderr()).doesNotContain("listening");
    // far below the 60 s startup timeout, far above a JVM start on a loaded machine
    assertThat(run.millis()).as("exit within a JVM start, not a startup timeout").isLessThan(45_000);
    assertNoSecrets(run);
  }

  @Test
  void healthcheckExitsZeroOnlyWhenTheGatewayIsReady() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try (TestGateway gateway = TestGateway.start(vertx, "http://127.0.0.1:9/v1")) {
      Run ready = sluice(Map.of(), "healthcheck", "--url", "http://127.0.0.1:" + gateway.port() + "/health/ready");
      assertThat(ready.exitCode()).as(ready.stdout()).isZero();
      Run closed = sluice(Map.of(), "healthcheck", "--url", "http://127.0.0.1:" + RedisServer.freePort() + "/health/ready");
      assertThat(closed.exitCode()).as(closed.stdout()).isEqualTo(1);
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void unknownVertxMetricsModeIsRejectedBeforeStarting() throws Exception {
    Run run = sluice(Map.of("SLUICE_VERTX_METRICS", "verbose"), "--config",
        write(TestGateway.yaml("http://127.0.0.1:9/v1", "")).toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.stderr()).contains("SLUICE_VERTX_METRICS=verbose (expected: client, all or off)");
    assertThat(run.stdout() + run.stderr()).doesNotContain("listening");
  }

  // --- helpers ---

  private static String broken() {
    String yaml = TestGateway.yaml("http://127.0.0.1:9/v1", "");
    String betaModels = "    models: [ text-embedding-3-small ]\n";
    assertThat(yaml).contains(betaModels);
    return yaml.replace(betaModels, betaModels + "    limits: { requests-per-minute: -5 }\n");
  }

  private Path write(String yaml) throws Exception {
    return Files.writeString(Files.createTempFile(dir, "sluice", ".yaml"), yaml);
  }

  private static void assertNoSecrets(Run run) {
    String digest = TestGateway.digest(TestGateway.KEY);
    assertThat(run.stdout() + run.stderr()).doesNotContain(TestGateway.PROVIDER_KEY, digest.substring(12), TestGateway.PEPPER);
  }

  /** Runs {@code dev.sluice.Main} in a child JVM with this test's classpath and a clean SLUICE_* environment. */
  private Run sluice(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.sluice.Main"));
    command.addAll(List.of(args));
    File out = dir.resolve("stdout-" + System.nanoTime()).toFile();
    File err = dir.resolve("stderr-" + System.nanoTime()).toFile();
    ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out).redirectError(err);
    builder.environment().keySet().removeIf(name -> name.startsWith("SLUICE_") || name.endsWith("_API_KEY"));
    builder.environment().putAll(env);
    long start = System.nanoTime();
    Process process = builder.start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("sluice " + String.join(" ", args) + " did not exit within 60 s");
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    return new Run(process.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
        Files.readString(err.toPath(), StandardCharsets.UTF_8), millis);
  }
}
