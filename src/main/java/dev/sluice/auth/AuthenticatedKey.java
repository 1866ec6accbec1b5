package dev.sluice.auth;

import dev.sluice.config.TenantConfig;

/** The tenant a presented key belongs to, and that key's non-secret id (safe for logs). */
public record AuthenticatedKey(TenantConfig tenant, String keyId) {
  public String tenantId() {
    return tenant.id();
  }
}
