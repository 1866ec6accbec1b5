/**
 * The response cache: cacheability rules, canonical cache keys, envelopes, in-memory and Redis backends, stream
 * assembly and SSE replay, and single-flight coalescing (in this process, and across replicas through a Redis lock).
 * Decisions only; the HTTP layer wires them in.
 */
package dev.sluice.cache;
