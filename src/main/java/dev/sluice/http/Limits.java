package dev.sluice.http;

import dev.sluice.ratelimit.BudgetGuard;
import dev.sluice.ratelimit.RateLimiter;
import dev.sluice.usage.TokenCounter;
import java.time.Clock;

/**
 * The process-wide admission services shared by every event loop: the rate limiter, the budget guard (in memory
 * or Redis-backed), the token counter and the clock that decides budget days.
 */
public record Limits(RateLimiter limiter, BudgetGuard budgets, TokenCounter tokens, Clock clock) {}
