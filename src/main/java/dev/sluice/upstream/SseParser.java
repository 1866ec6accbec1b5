package dev.sluice.upstream;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.core.streams.ReadStream;
import java.nio.charset.StandardCharsets;

/**
 * SSE framing per the WHATWG rules that matter here: lines end in {@code \n} or {@code \r\n}; {@code data:} lines
 * of one event are joined with {@code \n}; a blank line dispatches; {@code :} lines are comments; {@code event:}
 * names the event. Pausing the parser pauses the socket (backpressure).
 */
public final class SseParser {
  /** Receives dispatched events and comments. */
  public interface Listener {
    void onEvent(String event, String data);

    void onComment();
  }

  /** A single SSE line longer than this is treated as a malformed stream. */
  public static final int MAX_LINE = 4 * 1024 * 1024;

  private final RecordParser lines;
  private final Listener listener;
  private StringBuilder data;
  private String event;

  public SseParser(ReadStream<Buffer> source, Listener listener) {
    this.listener = listener;
    this.lines = RecordParser.newDelimited("\n", source);
    lines.maxRecordSize(MAX_LINE);
    lines.handler(this::onLine);
  }

  public SseParser exceptionHandler(Handler<Throwable> handler) {
    lines.exceptionHandler(handler);
    return this;
  }

  public SseParser endHandler(Handler<Void> handler) {
    lines.endHandler(handler);
    return this;
  }

  public void pause() {
    lines.pause();
  }

  public void resume() {
    lines.resume();
  }

  private void onLine(Buffer raw) {
    int length = raw.length();
    if (length > 0 && raw.getByte(length - 1) == '\r') length--;
    if (length == 0) {
      dispatch();
      return;
    }
    String line = raw.getString(0, length, StandardCharsets.UTF_8.name());
    if (line.charAt(0) == ':') {
      listener.onComment();
      return;
    }
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1 < line.length() && line.charAt(colon + 1) == ' ' ? colon + 2 : colon + 1);
    if (field.equals("data")) {
      if (data == null) {
        data = new StringBuilder(value);
      } else {
        data.append('\n').append(value);
      }
    } else if (field.equals("event")) {
      event = value;
    }
  }

  private void dispatch() {
    if (data == null) {
      event = null;
      return;
    }
    String payload = data.toString();
    String name = event;
    data = null;
    event = null;
    listener.onEvent(name, payload);
  }
}
