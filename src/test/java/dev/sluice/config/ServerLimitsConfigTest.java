package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The slow-client limits and the metrics listener: production defaults, and path-precise messages for bad values. */
class ServerLimitsConfigTest {
  static final String REST = """
      providers: { mock: { type: mock } }
      models: { m: { deployments: [ { provider: mock, model: mock } ] } }
      """;

  static List<String> problems(String server) {
    return catchThrowableOfType(ConfigException.class,
        () -> ConfigLoader.parse("server: " + server + "\n" + REST, Map.of())).problems();
  }

  @Test
  void defaultsBoundSlowClientsAndKeepMetricsOffThePublicPort() {
    ServerConfig server = ConfigLoader.parse(REST, Map.of()).server();
    assertThat(server.headerTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(server.bodyIdleTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(server.bodyTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(server.keepAliveTimeout()).isGreaterThan(Duration.ofSeconds(60));
    assertThat(server.maxUploadsPerTenant()).isEqualTo(64);
    assertThat(server.maxConnectionsPerAddress()).isZero();
    assertThat(server.metricsListener()).isEqualTo(new ServerConfig.MetricsListener(false, "127.0.0.1", 9464));
  }

  @Test
  void metricsCanMoveToTheApiPortOrBeTurnedOff() {
    assertThat(ConfigLoader.parse("server: { metrics: api }\n" + REST, Map.of()).server().metricsListener().onApiPort()).isTrue();
    assertThat(ConfigLoader.parse("server: { metrics: \"off\" }\n" + REST, Map.of()).server().metricsListener().off()).isTrue();
    assertThat(ConfigLoader.parse("server: { metrics: off }\n" + REST, Map.of()).server().metricsListener().off()).isTrue();
    assertThat(ConfigLoader.parse("server: { metrics: \"[::1]:9100\" }\n" + REST, Map.of()).server().metricsListener())
        .isEqualTo(new ServerConfig.MetricsListener(false, "::1", 9100));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{ header-timeout: 0s }|server.header-timeout: ",
      "{ body-idle-timeout: -1s }|server.body-idle-timeout: ",
      "{ body-timeout: 0ms }|server.body-timeout: ",
      "{ keep-alive-timeout: 0s }|server.keep-alive-timeout: ",
      "{ max-uploads-per-tenant: 0 }|server.max-uploads-per-tenant: 0 (expected: > 0)",
      "{ max-connections-per-address: -1 }|server.max-connections-per-address: -1 (expected: >= 0)",
      "{ metrics: public }|server.metrics: public (expected: HOST:PORT such as 127.0.0.1:9464, api or off)",
      "{ metrics: \"127.0.0.1:99999\" }|server.metrics: 127.0.0.1:99999 (expected: "})
  void badValuesNameTheirPath(String server, String message) {
    assertThat(problems(server)).singleElement().asString().startsWith(message);
  }
}
