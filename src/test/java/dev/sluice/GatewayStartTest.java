package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.FakeUpstream;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GatewayStartTest {
  Vertx vertx;
  FakeUpstream upstream;
  Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
  }

  @AfterEach
  void stop() {
    if (gateway != null) gateway.stop().await();
    upstream.close();
    vertx.close().await();
  }

  @Test
  void portZeroWithSeveralInstancesSharesOneRandomPort() throws Exception {
    String yaml = TestGateway.yaml(upstream.baseUrl(), "").replace("instances: 1", "instances: 3");
    gateway = Gateway.start(vertx, ConfigLoader.parse(yaml, Map.of()), 0).await();
    assertThat(gateway.port()).isPositive();
    for (int i = 0; i < 6; i++) {
      assertThat(Http.get("http://127.0.0.1:" + gateway.port() + "/health/live", null).statusCode()).isEqualTo(200);
    }
  }
}
