package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestGateway;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class SmokeTest extends GatewayTest {

  @Test
  void nonStreamingChatIsForwardedToTheDeploymentModel() throws Exception {
    HttpResponse<String> response = Http.post(gateway.baseUrl() + "/chat/completions", TestGateway.KEY,
        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("Hello from the fake upstream.");
    assertThat(upstream.lastRequest().body().getString("model")).isEqualTo("upstream-mini");
    assertThat(upstream.lastRequest().headers().get("authorization")).isEqualTo("Bearer " + TestGateway.PROVIDER_KEY);
  }
}
