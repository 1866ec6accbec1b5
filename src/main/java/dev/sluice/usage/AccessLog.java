package dev.sluice.usage;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;
import java.io.StringWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON line per request to the {@code sluice.access} logger, from the usage event, without ever blocking
 * the caller and without losing lines silently: lines wait in a bounded queue for one writer thread; when the sink
 * (stdout, read by the container runtime) is slower than the traffic for longer than the queue lasts, the lines that
 * do not fit are dropped and counted ({@code llm_access_log_dropped_total}, alert {@code SluiceAccessLogDropping}).
 * The metrics and the spend ledger are fed from the same event and never drop: the access log is the audit trail that
 * may have gaps, and those gaps are visible.
 */
public final class AccessLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("sluice.access");
  private static final String STOP = new String("stop");
  /** About 8 MB of lines at ~1 KB each: seconds of a stalled stdout at high traffic, bounded memory either way. */
  public static final int DEFAULT_CAPACITY = 8192;
  /** Vert.x's encoder on a factory that writes decimals in plain notation (costs read {@code 0.0000072}). */
  private static final JsonFactory PLAIN_DECIMALS = JsonFactory.builder()
      .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN).build();

  private final BlockingQueue<String> queue;
  private final Consumer<String> sink;
  private final LongAdder dropped = new LongAdder();
  private final Thread writer;
  private volatile boolean closed;

  /** The access log of a running gateway: the {@code sluice.access} logger through a queue of {@link #DEFAULT_CAPACITY}. */
  public static AccessLog toLogger() {
    return new AccessLog(DEFAULT_CAPACITY, LOG::info);
  }

  /** @param sink where lines go, called on the writer thread only; it may block */
  public AccessLog(int capacity, Consumer<String> sink) {
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.sink = sink;
    this.writer = new Thread(this::drain, "sluice-access-log");
    writer.setDaemon(true);
    writer.start();
  }

  /** Queues the event's line (skipping the JSON encoding entirely when the access log is off); never blocks. */
  public void write(UsageEvent event) {
    if (closed || !LOG.isInfoEnabled()) return;
    write(line(event));
  }

  void write(String line) {
    if (!queue.offer(line)) dropped.increment();
  }

  /** Lines dropped because the queue was full. */
  public double dropped() {
    return dropped.sum();
  }

  private void drain() {
    try {
      while (true) {
        String line = queue.take();
        if (line == STOP) return;
        try {
          sink.accept(line);
        } catch (RuntimeException e) {
          dropped.increment();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops taking lines and writes what is queued, waiting at most {@code waitMillis} (blocking: not on an event loop). */
  public void close(long waitMillis) {
    closed = true;
    try {
      if (!queue.offer(STOP, waitMillis, TimeUnit.MILLISECONDS)) {
        writer.interrupt();
        return;
      }
      writer.join(waitMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writer.isAlive()) writer.interrupt();
  }

  @Override
  public void close() {
    close(5000);
  }

  static String line(UsageEvent event) {
    StringWriter out = new StringWriter(512);
    try (JsonGenerator generator = PLAIN_DECIMALS.createGenerator(out)) {
      JacksonCodec.encodeJson(event.toJson(), generator);
    } catch (IOException e) {
      return event.toJson().encode(); // a StringWriter does not fail; keep the line regardless
    }
    return out.toString();
  }
}
