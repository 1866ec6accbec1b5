package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.auth.KeyDigest;
import dev.sluice.testing.Await;
import dev.sluice.testing.RedisServer;
import dev.sluice.testing.TestGateway;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real command line in a child JVM: strict parsing, {@code --version}/{@code --help}, config validation,
 * {@code hash-key}, failing before binding, a port in use named, SIGHUP on the embedded defaults.
 */
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
  void validateConfigPrintsWarningsOnStderrAndStillExitsZero() throws Exception {
    String yaml = TestGateway.yaml("http://127.0.0.1:9/v1", "").replace("  - id: acme\n", "  - id: acme\n    budget: { daily-usd: 5 }\n");
    Run run = sluice(Map.of(), "--config", write(yaml).toString(), "--validate-config");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.stderr()).contains("sluice: warning: tenants[0].budget: acme can reach models without a price");
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

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"--confg x.yaml", "-v", "--config", "serve", "--validate-config --verbose"})
  void unknownOrIncompleteArgumentsPrintTheUsageAndExit2BeforeStarting(String args) throws Exception {
    Run run = sluice(Map.of("SLUICE_PORT", "1"), args.split(" "));
    assertThat(run.exitCode()).as(run.stdout() + run.stderr()).isEqualTo(2);
    assertThat(run.stderr()).startsWith("sluice: ").contains("usage: sluice");
    assertThat(run.stdout() + run.stderr()).doesNotContain("listening", "Exception", "\tat ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"eighty", "70000", "-1"})
  void aBadPortInTheEnvironmentIsNamedWithoutAStackTrace(String port) throws Exception {
    Run run = sluice(Map.of("SLUICE_PORT", port));
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.stderr()).contains("SLUICE_PORT=" + port + " (expected: a port 0..65535)").doesNotContain("\tat ");
  }

  @Test
  void versionPrintsTheBuildVersionAndExitsZero() throws Exception {
    Run run = sluice(Map.of(), "--version");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.stdout().trim()).matches("sluice \\d+\\.\\d+\\.\\d+.*").doesNotContain("${");
    assertThat(run.stdout()).doesNotContain("listening");
  }

  @ParameterizedTest
  @ValueSource(strings = {"--help", "-h"})
  void helpPrintsTheUsageOnStdoutAndExitsZero(String flag) throws Exception {
    Run run = sluice(Map.of(), flag);
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.stdout()).contains("usage: sluice", "--config FILE", "hash-key", "mock-upstream", "healthcheck");
    assertThat(run.stderr()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"--latency 20", "--port eighty", "--tps 0", "--error-rate 2", "--speed 3"})
  void mockUpstreamWithABadValueSaysWhatWasExpectedWithoutAStackTrace(String args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("mock-upstream", "--port", "0"));
    argv.addAll(List.of(args.split(" ")));
    Run run = sluice(Map.of(), argv.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.stdout() + run.stderr()).isEqualTo(2);
    assertThat(run.stderr()).startsWith("sluice: ").contains(args.split(" ")[0]);
    assertThat(run.stdout() + run.stderr()).doesNotContain("Exception", "\tat ", "listening");
  }

  @Test
  void mockUpstreamLatencyMessageNamesTheExpectedFormat() throws Exception {
    Run run = sluice(Map.of(), "mock-upstream", "--latency", "20");
    assertThat(run.stderr()).contains("mock-upstream --latency 20: invalid value (expected: a duration like 20ms or 1s)");
  }

  @Test
  void aPortInUseIsNamedInTheStartupError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
      Run run = sluice(Map.of("SLUICE_PORT", String.valueOf(taken.getLocalPort())));
      assertThat(run.exitCode()).isNotZero();
      assertThat(run.stderr()).contains("cannot listen on 0.0.0.0:" + taken.getLocalPort() + ": address already in use");
      assertThat(run.stderr()).doesNotContain("\tat ");
    }
  }

  @Test
  void sighupOnTheEmbeddedDefaultsIsLoggedAndTheGatewayKeepsServing() throws Exception {
    int port = RedisServer.freePort();
    File out = dir.resolve("demo-stdout").toFile();
    ProcessBuilder builder = command(Map.of("SLUICE_PORT", String.valueOf(port), "SLUICE_DEMO_KEY", TestGateway.KEY))
        .redirectOutput(out).redirectErrorStream(true);
    Process process = builder.start();
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      Await.until(vertx, Duration.ofSeconds(60), "the demo gateway is listening",
          () -> Files.readString(out.toPath()).contains("sluice listening on port " + port) || !process.isAlive());
      assertThat(process.isAlive()).as(Files.readString(out.toPath())).isTrue();
      Process hup = new ProcessBuilder("kill", "-HUP", String.valueOf(process.pid())).start();
      assertThat(hup.waitFor(10, TimeUnit.SECONDS) && hup.exitValue() == 0).as("kill -HUP sent").isTrue();
      // Started with SIGHUP ignored (e.g. under nohup), this JVM's children inherit that: then the gateway says so.
      String logged = sighupIgnoredHere() ? "SIGHUP was already ignored" : "SIGHUP ignored";
      try {
        Await.until(vertx, Duration.ofSeconds(30), "the SIGHUP is logged",
            () -> Files.readString(out.toPath()).contains(logged));
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; alive=" + process.isAlive() + "; output:\n" + Files.readString(out.toPath()), e);
      }
      assertThat(process.isAlive()).as("still running after SIGHUP").isTrue();
      assertThat(Main.healthcheck("http://127.0.0.1:" + port + "/health/ready")).isZero();
    } finally {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      vertx.close().await();
    }
  }

  // --- helpers ---

  /** Whether this process ignores SIGHUP (bit 0 of the SigIgn mask in /proc/self/status). */
  private static boolean sighupIgnoredHere() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("SigIgn:")) return (Long.parseLong(line.substring(7).trim(), 16) & 1) != 0;
    }
    return false;
  }

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
    File out = dir.resolve("stdout-" + System.nanoTime()).toFile();
    File err = dir.resolve("stderr-" + System.nanoTime()).toFile();
    ProcessBuilder builder = command(env, args).redirectOutput(out).redirectError(err);
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

  private static ProcessBuilder command(Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        // the shipped logging (INFO to stdout), not the tests' warnings-only logback-test.xml
        "-Dlogback.configurationFile=" + Main.class.getResource("/logback.xml"), "dev.sluice.Main"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(name -> name.startsWith("SLUICE_") || name.endsWith("_API_KEY"));
    builder.environment().putAll(env);
    return builder;
  }
}
