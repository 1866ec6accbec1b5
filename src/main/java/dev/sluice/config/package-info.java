/** Typed, immutable configuration records, YAML + ${ENV} loading and validation with path-precise messages. */
package dev.sluice.config;
