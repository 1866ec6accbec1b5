/** Redis client construction shared by the limiter, cache and spend ledger. */
package dev.sluice.redis;
