package dev.sluice.usage;

import io.vertx.core.Future;
import java.time.LocalDate;

/**
 * Spend per tenant per UTC day and month, fed by usage events. Recording is idempotent per request id, so a
 * redelivered event cannot count twice.
 */
public interface SpendLedger {
  /** Adds the event's cost, once per request id. */
  Future<Void> record(UsageEvent event);

  Future<Spend> spend(String tenant, LocalDate day);

  /** The spend as of this replica's latest booking (may save a round trip); by default {@link #spend}. */
  default Future<Spend> latestSpend(String tenant, LocalDate day) {
    return spend(tenant, day);
  }

  /** A tenant's spend in USD for one day and its month. */
  record Spend(String tenant, LocalDate day, double dayUsd, double monthUsd) {}
}
