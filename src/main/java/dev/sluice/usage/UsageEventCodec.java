package dev.sluice.usage;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/** Local-only codec: events are immutable records, passed by reference between verticles of one process. */
public final class UsageEventCodec implements MessageCodec<UsageEvent, UsageEvent> {
  @Override
  public void encodeToWire(Buffer buffer, UsageEvent event) {
    throw new UnsupportedOperationException("usage events are published locally only");
  }

  @Override
  public UsageEvent decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException("usage events are published locally only");
  }

  @Override
  public UsageEvent transform(UsageEvent event) {
    return event;
  }

  @Override
  public String name() {
    return "sluice-usage-event";
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
