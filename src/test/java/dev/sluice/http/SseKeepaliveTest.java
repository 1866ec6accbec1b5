package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.FakeUpstream.Scripts;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gateway keeps a quiet stream warm with {@code : ping} comments, without touching the data events. */
class SseKeepaliveTest extends GatewayTest {
  static final String SERVER = "{ port: 0, instances: 1, shutdown-grace: 2s, sse-keepalive: 100ms }";
  static final String TIMEOUTS = "{ connect: 500ms, headers: 1s, first-token: 1s, idle: 2s, total: 1s }";


  @Override
  protected TestGateway startGateway() {
    return TestGateway.start(vertx, upstream.baseUrl(), SERVER, TIMEOUTS);
  }

  @Test
  void slowUpstreamGetsPingCommentsBetweenDataEvents() throws Exception {
    upstream.always(Scripts.frames(Sse.concat(Sse.chunks(4), Sse.finish(), Sse.DONE), 400, true));
    try (RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, StreamFaultTest.STREAM)) {
      List<String> events = client.remainingEvents();
      assertThat(events).last().isEqualTo("data: [DONE]");
      assertThat(events).filteredOn(Sse::isData).hasSize(6);
      assertThat(events).filteredOn(e -> !Sse.isData(e)).isNotEmpty().allMatch(e -> e.equals(": ping"));
      // between every pair of data events 400 ms apart there is at least one ping
      int firstData = events.indexOf(events.stream().filter(Sse::isData).findFirst().orElseThrow());
      for (int i = firstData + 1; i < events.size(); i++) {
        if (Sse.isData(events.get(i))) assertThat(events.get(i - 1)).isEqualTo(": ping");
      }
    }
  }
}
