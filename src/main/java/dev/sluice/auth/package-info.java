/** Tenant keys: HMAC digests, constant-time confirmation, key → tenant lookup. Knows nothing of HTTP. */
package dev.sluice.auth;
