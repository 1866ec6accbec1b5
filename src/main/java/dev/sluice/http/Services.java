package dev.sluice.http;

import dev.sluice.cache.ResponseCache;
import dev.sluice.cache.SingleFlight;
import dev.sluice.ratelimit.BudgetGuard;
import dev.sluice.ratelimit.RateLimiter;
import dev.sluice.routing.DeploymentHealth;
import dev.sluice.usage.GatewayMetrics;
import java.util.concurrent.atomic.AtomicInteger;
import dev.sluice.usage.TokenCounter;
import java.time.Clock;

/**
 * The process-wide services every event loop shares: the rate limiter and budget guard, the response cache and its
 * single-flight table (in memory or Redis-backed), the token counter, the clock that decides budget days and
 * cache ages, the Prometheus meters, the deployments' breakers and cool-downs, the retry budget's counters, and
 * whether Redis is ready (for {@code /health/ready}). Built once by {@code Gateway}.
 */
public record Services(RateLimiter limiter, BudgetGuard budgets, ResponseCache cache, SingleFlight flights,
                       dev.sluice.cache.SharedFlights sharedFlights,
                       TokenCounter tokens, Clock clock, GatewayMetrics metrics, DeploymentHealth health,
                       AtomicInteger retriesInFlight, AtomicInteger requestsInFlight,
                       dev.sluice.redis.RedisHealth redisHealth) {}
