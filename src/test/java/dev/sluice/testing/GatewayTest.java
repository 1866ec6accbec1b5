package dev.sluice.testing;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base for tests of one gateway in front of one {@link FakeUpstream}, both on 127.0.0.1:0 in a fresh Vert.x per test.
 * Override {@link #startGateway()} for another config, or to return null where each test starts its own; a test may
 * replace {@link #gateway}, the last one is closed.
 */
public abstract class GatewayTest {
  protected Vertx vertx;
  protected FakeUpstream upstream;
  protected TestGateway gateway;

  @BeforeEach
  void startVertxUpstreamAndGateway() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    gateway = startGateway();
  }

  /** The gateway under test; by default {@link TestGateway}'s standard config pointing at {@link #upstream}. */
  protected TestGateway startGateway() {
    return TestGateway.start(vertx, upstream.baseUrl());
  }

  /**
   * Replaces the gateway with one whose provider {@code fake} has the given timeouts short and the others at
   * {@link TestGateway#DEFAULT_TIMEOUTS}; for tests of a timeout, whose upstream never sends what it waits for.
   */
  protected void useTimeouts(String shortOnes) {
    gateway.close();
    gateway = TestGateway.start(vertx, upstream.baseUrl(), TestGateway.DEFAULT_SERVER, TestGateway.timeoutsWith(shortOnes));
  }

  @AfterEach
  void stopGatewayUpstreamAndVertx() {
    if (gateway != null) gateway.close();
    upstream.close();
    vertx.close().await();
  }
}
