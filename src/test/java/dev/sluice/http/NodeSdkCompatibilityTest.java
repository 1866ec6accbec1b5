package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.sluice.EmbeddedDefaults;
import dev.sluice.Gateway;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs {@code sdk-check/} (the official {@code openai} npm SDK under {@code node --test}) against an in-process gateway
 * on its embedded defaults. Node is a build requirement: without it this test fails rather than skips, so a CI image
 * without Node cannot silently drop the check.
 */
class NodeSdkCompatibilityTest {
  static final String KEY = "sk-sluice-node-check-0123456789abcdefghijklmnopqrstuv";
  static final Path PROJECT = Path.of("").toAbsolutePath();
  static final Path SDK_CHECK = PROJECT.resolve("sdk-check");

  Vertx vertx;
  Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    EmbeddedDefaults.Defaults defaults = EmbeddedDefaults.create(Map.of("SLUICE_DEMO_KEY", KEY));
    gateway = Gateway.start(vertx, defaults.config(), 0).await();
  }

  @AfterEach
  void stop() {
    gateway.stop().await();
    vertx.close().await();
  }

  @Test
  void officialNpmSdkPassesTheCheckAgainstEmbeddedDefaults() throws Exception {
    assertThat(SDK_CHECK.resolve("package-lock.json")).as("sdk-check project (run from the repository root)").exists();
    Result version = run(List.of("node", "--version"), SDK_CHECK, Map.of(), 30);
    assertThat(version.exit()).as("node --version: %s", version.output()).isZero();
    if (!Files.isDirectory(SDK_CHECK.resolve("node_modules").resolve("openai"))) {
      Result install = run(List.of("npm", "ci", "--no-audit", "--no-fund"), SDK_CHECK, Map.of(), 300);
      System.out.println(install.output());
      assertThat(install.exit()).as("npm ci in sdk-check failed:%n%s", install.output()).isZero();
    }

    Result check = run(List.of("node", "--test", "sdk-check/"), PROJECT, Map.of(
        "SLUICE_BASE_URL", "http://127.0.0.1:" + gateway.port() + "/v1",
        "SLUICE_KEY", KEY), 120);

    System.out.println("node --test sdk-check/ (" + version.output().trim() + "):\n" + check.output());
    assertThat(check.exit()).as("node --test sdk-check/ failed:%n%s", check.output()).isZero();
    assertThat(check.output()).contains("# pass 6").contains("# fail 0");
  }

  record Result(int exit, String output) {}

  /** Runs a command to completion within {@code timeoutSeconds}, stdout and stderr merged into one transcript. */
  static Result run(List<String> command, Path dir, Map<String, String> env, long timeoutSeconds) throws Exception {
    Path log = Files.createTempFile("sluice-node-", ".log");
    try {
      ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile());
      builder.environment().putAll(env);
      Process process;
      try {
        process = builder.start();
      } catch (IOException e) {
        return fail("Cannot run '" + command.get(0) + "' (" + e.getMessage() + "). Node.js 20+ and npm must be on the "
            + "PATH to run the openai npm SDK compatibility check (sdk-check/).");
      }
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        return fail(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s:\n"
            + Files.readString(log, StandardCharsets.UTF_8));
      }
      return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
