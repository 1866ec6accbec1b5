package dev.sluice.usage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes one JSON line per request to the {@code sluice.access} logger, from the usage event. */
public final class AccessLog {
  private static final Logger LOG = LoggerFactory.getLogger("sluice.access");

  private AccessLog() {}

  /** Writes the event's line (skipping the JSON encoding entirely when the access log is off). */
  public static void write(UsageEvent event) {
    if (LOG.isInfoEnabled()) LOG.info(event.toJson().encode());
  }
}
