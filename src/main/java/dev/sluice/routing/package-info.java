/**
 * Alias resolution and the attempt loop up to the commit point: deployment choice, retries, fallback, the
 * classification table, one circuit breaker per deployment (shared across replicas through Redis when configured).
 * Uses {@code upstream}; knows nothing of HTTP.
 */
package dev.sluice.routing;
