package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile and the k8s/ kustomization agree with each other and with the gateway: the config they ship
 * validates, the probes hit endpoints that exist, ports, user and grace periods line up, and every secret the config
 * needs is in the Secret template. (CI also renders the kustomization with {@code kubectl kustomize} when present.)
 */
class DeploymentManifestsTest {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final Path K8S = Path.of("k8s");

  static JsonNode yaml(String file) throws Exception {
    return YAML.readTree(K8S.resolve(file).toFile());
  }

  static JsonNode container() throws Exception {
    return yaml("deployment.yaml").at("/spec/template/spec/containers/0");
  }

  /** The Secret template's keys as environment: what the shipped config needs must all be there. */
  static Map<String, String> secretEnv() throws Exception {
    Map<String, String> env = new HashMap<>();
    yaml("secret.example.yaml").get("stringData").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
    return env;
  }

  @Test
  void theShippedConfigValidatesWithTheSecretTemplatesVariables() throws Exception {
    String text = Files.readString(K8S.resolve("sluice.yaml"));
    Set<String> required = new HashSet<>();
    Matcher m = Pattern.compile("\\$\\{([A-Z0-9_]+)}").matcher(text);
    while (m.find()) required.add(m.group(1));
    assertThat(secretEnv().keySet()).containsAll(required);
    SluiceConfig config = ConfigLoader.load(K8S.resolve("sluice.yaml"), secretEnv());
    assertThat(config.redis().enabled()).as("replicas share Redis").isTrue();
    assertThat(yaml("deployment.yaml").at("/spec/template/spec/containers/0/envFrom/0/secretRef/name").asText())
        .isEqualTo(yaml("secret.example.yaml").at("/metadata/name").asText());
  }

  /** Every document of a multi-document manifest. */
  static List<JsonNode> documents(String file) throws Exception {
    try (com.fasterxml.jackson.databind.MappingIterator<JsonNode> docs =
             YAML.readerFor(JsonNode.class).readValues(K8S.resolve(file).toFile())) {
      return docs.readAll();
    }
  }

  @Test
  void theShippedRedisKeepsSpendAndBudgetsOnAVolumeThatOutlivesThePod() throws Exception {
    JsonNode redis = documents("redis.yaml").stream().filter(d -> d.path("kind").asText().equals("StatefulSet"))
        .findFirst().orElseThrow(() -> new AssertionError("k8s/redis.yaml: no StatefulSet"));
    JsonNode container = redis.at("/spec/template/spec/containers/0");
    List<String> args = new java.util.ArrayList<>();
    container.get("args").forEach(a -> args.add(a.asText()));
    assertThat(args.get(args.indexOf("--appendonly") + 1)).isEqualTo("yes");
    assertThat(args.get(args.indexOf("--appendfsync") + 1)).isEqualTo("everysec");
    String dir = args.get(args.indexOf("--dir") + 1);
    JsonNode mount = container.get("volumeMounts").get(0);
    assertThat(mount.get("mountPath").asText()).as("the AOF directory is the mounted volume").isEqualTo(dir);
    JsonNode claim = redis.at("/spec/volumeClaimTemplates/0");
    assertThat(claim.at("/metadata/name").asText()).isEqualTo(mount.get("name").asText());
    assertThat(claim.at("/spec/resources/requests/storage").asText()).isNotEmpty();
    assertThat(redis.at("/spec/template/spec/volumes").isMissingNode()).as("no emptyDir shadowing the claim").isTrue();
    assertThat(container.at("/resources/limits/memory").asText()).isNotEmpty();
    assertThat(redis.at("/spec/serviceName").asText()).isEqualTo(documents("redis.yaml").stream()
        .filter(d -> d.path("kind").asText().equals("Service")).findFirst().orElseThrow().at("/metadata/name").asText());
  }

  @Test
  void portsProbesAndGracePeriodLineUp() throws Exception {
    SluiceConfig config = ConfigLoader.load(K8S.resolve("sluice.yaml"), secretEnv());
    JsonNode container = container();
    assertThat(container.at("/ports/0/containerPort").asInt()).isEqualTo(config.server().port());
    assertThat(container.at("/ports/0/name").asText()).isEqualTo("http")
        .isEqualTo(yaml("service.yaml").at("/spec/ports/0/targetPort").asText());
    // metrics: their own container port and a cluster-internal Service; the client Service never carries them
    assertThat(container.at("/ports/1/name").asText()).isEqualTo("metrics")
        .isEqualTo(yaml("service-metrics.yaml").at("/spec/ports/0/targetPort").asText())
        .isEqualTo(yaml("servicemonitor.yaml").at("/spec/endpoints/0/port").asText());
    assertThat(container.at("/ports/1/containerPort").asInt()).isEqualTo(config.server().metricsListener().port());
    assertThat(yaml("service.yaml").at("/spec/ports")).hasSize(1);
    assertThat(yaml("service-metrics.yaml").at("/spec/type").asText()).isEqualTo("ClusterIP");
    assertThat(yaml("servicemonitor.yaml").at("/spec/selector/matchLabels/app.kubernetes.io~1component").asText())
        .isEqualTo(yaml("service-metrics.yaml").at("/metadata/labels/app.kubernetes.io~1component").asText());
    assertThat(Files.readString(Path.of("Dockerfile"))).contains("EXPOSE " + config.server().port());

    long preStop = container.at("/lifecycle/preStop/exec/command/1").asLong();
    long grace = yaml("deployment.yaml").at("/spec/template/spec/terminationGracePeriodSeconds").asLong();
    assertThat(grace).as("preStop + shutdown-grace must fit before SIGKILL")
        .isGreaterThanOrEqualTo(preStop + config.server().shutdownGrace().toSeconds() + 5);

    // the probe paths exist on a running gateway, and /metrics for the ServiceMonitor
    Vertx vertx = Vertx.vertx();
    try (TestGateway gateway = TestGateway.start(vertx, "http://127.0.0.1:9/v1")) {
      for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
        String path = container.at("/" + probe + "/httpGet/path").asText();
        assertThat(Http.get("http://127.0.0.1:" + gateway.port() + path, null).statusCode()).as(probe).isEqualTo(200);
      }
      String metrics = yaml("servicemonitor.yaml").at("/spec/endpoints/0/path").asText();
      assertThat(Http.get("http://127.0.0.1:" + gateway.gateway.metricsPort() + metrics, null).body()).contains("llm_circuit_state");
      assertThat(Http.get("http://127.0.0.1:" + gateway.port() + metrics, null).statusCode()).isEqualTo(404);
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void theContainerRunsAsTheImagesNonRootUserWithTheConfigMounted() throws Exception {
    String dockerfile = Files.readString(Path.of("Dockerfile"));
    JsonNode pod = yaml("deployment.yaml").at("/spec/template/spec");
    long uid = pod.at("/securityContext/runAsUser").asLong();
    long gid = pod.at("/securityContext/runAsGroup").asLong();
    assertThat(uid).isPositive();
    assertThat(dockerfile).contains("--uid " + uid).contains("--gid " + gid).contains("USER " + uid + ":" + gid)
        .contains("HEALTHCHECK").contains("/health/ready");
    assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
    JsonNode container = container();
    assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
    String configPath = container.at("/args/1").asText();
    assertThat(container.at("/args/0").asText()).isEqualTo("--config");
    JsonNode mount = container.at("/volumeMounts/0");
    assertThat(configPath).startsWith(mount.at("/mountPath").asText() + "/");
    assertThat(pod.at("/volumes/0/configMap/name").asText()).isEqualTo("sluice-config");
    JsonNode generator = yaml("kustomization.yaml").at("/configMapGenerator/0");
    assertThat(generator.at("/name").asText()).isEqualTo("sluice-config");
    assertThat(generator.at("/files/0").asText()).isEqualTo(Path.of(configPath).getFileName().toString());
    for (JsonNode resource : yaml("kustomization.yaml").get("resources")) {
      assertThat(K8S.resolve(resource.asText())).exists();
    }
  }
}
