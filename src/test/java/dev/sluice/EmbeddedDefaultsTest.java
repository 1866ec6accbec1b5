package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ProviderType;
import dev.sluice.testing.Http;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With no config file: a mock provider, the common aliases and one demo tenant. */
class EmbeddedDefaultsTest {
  private static final String KEY = "sk-sluice-demo-test-0123456789abcdefghijklmnopqrstuv";

  @Test
  void demoKeyFromEnvironmentServesChatFromTheMock() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      EmbeddedDefaults.Defaults defaults = EmbeddedDefaults.create(Map.of("SLUICE_DEMO_KEY", KEY));
      assertThat(defaults.generatedKey()).isFalse();
      Gateway gateway = Gateway.start(vertx, defaults.config(), 0).await();
      HttpResponse<String> response = Http.post("http://127.0.0.1:" + gateway.port() + "/v1/chat/completions", KEY,
          "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("x-sluice-provider")).hasValue("mock");
      assertThat(new JsonObject(response.body()).getJsonArray("choices").getJsonObject(0).getJsonObject("message")
          .getString("content")).isEqualTo("This is a mock response from Sluice. You said: hi");
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void withoutADemoKeyAStrongOneIsGenerated() {
    EmbeddedDefaults.Defaults a = EmbeddedDefaults.create(Map.of());
    EmbeddedDefaults.Defaults b = EmbeddedDefaults.create(Map.of());
    assertThat(a.generatedKey()).isTrue();
    assertThat(a.demoKey()).startsWith("sk-sluice-").hasSizeGreaterThanOrEqualTo(10 + 43).isNotEqualTo(b.demoKey());
  }

  @Test
  void openAiKeyRoutesTheAliasesToOpenAi() {
    EmbeddedDefaults.Defaults defaults = EmbeddedDefaults.create(Map.of("OPENAI_API_KEY", "sk-real"));
    assertThat(defaults.config().providers().get("openai").type()).isEqualTo(ProviderType.OPENAI);
    assertThat(defaults.config().models().get("gpt-4o-mini").deployments().get(0).provider()).isEqualTo("openai");
    assertThat(defaults.config().models().get("mock").deployments().get(0).provider()).isEqualTo("mock");
  }
}
