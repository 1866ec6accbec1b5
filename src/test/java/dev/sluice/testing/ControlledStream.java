package dev.sluice.testing;

import dev.sluice.testing.FakeUpstream.Exchange;
import dev.sluice.testing.FakeUpstream.Script;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An upstream event stream the test writes frame by frame, so "between these two events" is an order the test
 * controls rather than a delay on a timer. Serves one request.
 */
public final class ControlledStream {
  private record Started(Exchange exchange, Context context) {}

  private final CompletableFuture<Started> started = new CompletableFuture<>();

  /** Answers 200 {@code text/event-stream} with the headers only; frames follow from {@link #send}. */
  public Script script() {
    return ex -> {
      ex.response.setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      ex.response.writeHead();
      started.complete(new Started(ex, Vertx.currentContext()));
    };
  }

  /** Writes one complete SSE frame (waits, bounded, for the request to arrive). */
  public void send(String frame) throws Exception {
    Started s = started.get(20, TimeUnit.SECONDS);
    s.context().runOnContext(v -> {
      if (!s.exchange().response.closed()) s.exchange().response.write(Buffer.buffer(frame));
    });
  }

  /** Ends the response. */
  public void end() throws Exception {
    Started s = started.get(20, TimeUnit.SECONDS);
    s.context().runOnContext(v -> {
      if (!s.exchange().response.closed()) s.exchange().response.end();
    });
  }
}
