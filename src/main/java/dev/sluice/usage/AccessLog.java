package dev.sluice.usage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;
import java.io.StringWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes one JSON line per request to the {@code sluice.access} logger, from the usage event. */
public final class AccessLog {
  private static final Logger LOG = LoggerFactory.getLogger("sluice.access");
  /** Vert.x's encoder on a factory that writes decimals in plain notation (costs read {@code 0.0000072}). */
  private static final JsonFactory PLAIN_DECIMALS = JsonFactory.builder()
      .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN).build();

  private AccessLog() {}

  /** Writes the event's line (skipping the JSON encoding entirely when the access log is off). */
  public static void write(UsageEvent event) {
    if (LOG.isInfoEnabled()) LOG.info(line(event));
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
