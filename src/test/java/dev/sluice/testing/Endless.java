package dev.sluice.testing;

import dev.sluice.testing.FakeUpstream.Script;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * Upstream streams that never end by themselves: a test of a timeout or a disconnect then cannot pass by the stream
 * simply running out (what a finite stream with a delay would allow on a slow machine).
 */
public final class Endless {
  private Endless() {}

  /** Sends {@code first} at once, then {@code repeated} every {@code periodMillis} until the connection closes. */
  public static Script framesThenForever(List<String> first, String repeated, long periodMillis) {
    return ex -> {
      ex.response.setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      for (String frame : first) ex.response.write(Buffer.buffer(frame));
      ex.vertx.setPeriodic(periodMillis, id -> {
        if (ex.response.closed()) {
          ex.vertx.cancelTimer(id);
        } else {
          ex.response.write(Buffer.buffer(repeated));
        }
      });
    };
  }
}
