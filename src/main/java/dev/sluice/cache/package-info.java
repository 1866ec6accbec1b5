/**
 * The response cache: cacheability rules, canonical cache keys, envelopes, in-memory and Redis backends, stream
 * assembly and SSE replay, and single-flight coalescing. Decisions only; the HTTP layer wires them in.
 */
package dev.sluice.cache;
