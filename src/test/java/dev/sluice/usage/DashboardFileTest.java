package dev.sluice.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The Grafana dashboard imports anywhere: Grafana asks for the Prometheus data source, every panel uses that choice. */
class DashboardFileTest {
  @Test
  void importAsksForAPrometheusDataSourceAndEveryQueryUsesIt() throws Exception {
    JsonObject dashboard = new JsonObject(Files.readString(Path.of("deploy/grafana/sluice-dashboard.json")));
    JsonArray inputs = dashboard.getJsonArray("__inputs");
    assertThat(inputs).hasSize(1);
    assertThat(inputs.getJsonObject(0).getString("name")).isEqualTo("DS_PROMETHEUS");
    assertThat(inputs.getJsonObject(0).getString("type")).isEqualTo("datasource");
    assertThat(inputs.getJsonObject(0).getString("pluginId")).isEqualTo("prometheus");
    assertThat(dashboard.getJsonArray("panels")).isNotEmpty();
    for (Object p : dashboard.getJsonArray("panels")) {
      JsonObject panel = (JsonObject) p;
      assertThat(panel.getJsonObject("datasource").getString("uid")).as(panel.getString("title")).isEqualTo("${DS_PROMETHEUS}");
      for (Object t : panel.getJsonArray("targets")) {
        assertThat(((JsonObject) t).getJsonObject("datasource").getString("uid")).as(panel.getString("title"))
            .isEqualTo("${DS_PROMETHEUS}");
      }
    }
  }
}
