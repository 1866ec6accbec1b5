package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.ControlledStream;
import dev.sluice.testing.GatewayTest;
import dev.sluice.testing.RawClient;
import dev.sluice.testing.Sse;
import dev.sluice.testing.TestGateway;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gateway keeps a quiet stream warm with {@code : ping} comments, without touching the data events. The
 * upstream sends its next event only after the client has seen a ping, so the ping can only come from the gateway's
 * keep-alive, and no delay is raced against a timer.
 */
class SseKeepaliveTest extends GatewayTest {
  static final String SERVER = "{ port: 0, instances: 1, shutdown-grace: 2s, sse-keepalive: 100ms }";

  @Override
  protected TestGateway startGateway() {
    return TestGateway.start(vertx, upstream.baseUrl(), SERVER, TestGateway.DEFAULT_TIMEOUTS);
  }

  @Test
  void quietUpstreamGetsPingCommentsBetweenDataEvents() throws Exception {
    ControlledStream stream = new ControlledStream();
    upstream.always(stream.script());
    List<String> frames = Sse.concat(Sse.chunks(4), Sse.finish());
    try (RawClient client = RawClient.post(gateway.port(), "/v1/chat/completions", TestGateway.KEY, StreamFaultTest.STREAM)) {
      List<String> data = new ArrayList<>();
      for (int i = 0; i < frames.size(); i++) {
        if (i > 0) assertThat(client.nextEvent()).as("while the upstream is quiet before event %d", i).isEqualTo(": ping");
        stream.send(frames.get(i));
        String event = client.nextEvent();
        while (": ping".equals(event)) event = client.nextEvent(); // more pings may come before the event arrives
        data.add(event);
      }
      stream.send(Sse.DONE);
      stream.end();
      List<String> rest = client.remainingEvents();
      assertThat(rest).last().isEqualTo("data: [DONE]");
      assertThat(rest).filteredOn(Sse::isData).containsExactly("data: [DONE]");
      assertThat(rest).filteredOn(e -> !Sse.isData(e)).allMatch(e -> e.equals(": ping"));
      assertThat(data).allMatch(Sse::isData).hasSize(5);
      assertThat(Sse.contents(data)).containsExactly("w1 ", "w2 ", "w3 ");
    }
  }
}
