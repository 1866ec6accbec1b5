/**
 * Per-tenant rate limits: token buckets for requests and tokens per minute plus an in-flight cap, in memory or
 * in Redis (atomic Lua scripts). Decisions only; the HTTP layer maps them to status codes and headers.
 */
package dev.sluice.ratelimit;
