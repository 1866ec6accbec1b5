/**
 * The deterministic mock: answer generation shared by the built-in mock provider and the stand-alone
 * {@code mock-upstream} server used for load tests. A leaf package.
 */
package dev.sluice.mock;
