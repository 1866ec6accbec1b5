package dev.sluice.testing;

import java.io.IOException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One private {@link RedisServer} per test class, emptied before each test. Register it on a static field:
 * {@code @RegisterExtension static final SharedRedis redisServer = new SharedRedis();}
 */
public final class SharedRedis implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {
  private RedisServer server;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    server = RedisServer.start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    server.close();
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    server.flushAll();
  }

  /** The running server, for what this class does not pass on. */
  public RedisServer server() {
    return server;
  }

  public String url() {
    return server.url();
  }

  public String command(String... args) throws IOException {
    return server.command(args);
  }

  public void flushAll() throws IOException {
    server.flushAll();
  }

  /** See {@link RedisServer#stop()}; {@link #restart()} brings it back on the same port, empty. */
  public void stop() throws Exception {
    server.stop();
  }

  public void restart() throws Exception {
    server.restart();
  }
}
