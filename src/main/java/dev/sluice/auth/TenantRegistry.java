package dev.sluice.auth;

import dev.sluice.config.KeyConfig;
import dev.sluice.config.TenantConfig;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Maps presented keys to tenants by digest, in memory (auth never waits on Redis). The lookup is by the HMAC
 * output, which an attacker cannot steer, and the match is confirmed with a constant-time comparison.
 * Immutable: a config reload builds a new registry.
 */
public final class TenantRegistry {
  /** Presented keys longer than this are rejected without hashing. */
  public static final int MAX_KEY_LENGTH = 512;

  private record Entry(byte[] digest, AuthenticatedKey key) {}

  private final KeyDigest digester;
  private final Map<String, Entry> byDigest = new HashMap<>();

  public TenantRegistry(List<TenantConfig> tenants, KeyDigest digester) {
    this.digester = digester;
    for (TenantConfig tenant : tenants) {
      for (KeyConfig key : tenant.keys()) {
        String hex = key.digest().substring(KeyConfig.DIGEST_PREFIX.length());
        byDigest.put(hex, new Entry(HexFormat.of().parseHex(hex), new AuthenticatedKey(tenant, key.id())));
      }
    }
  }

  /** @return the key's tenant, or {@code null} when the key is unknown, empty or oversized */
  public AuthenticatedKey authenticate(String presentedKey) {
    if (presentedKey == null || presentedKey.isEmpty() || presentedKey.length() > MAX_KEY_LENGTH) return null;
    byte[] digest = digester.digest(presentedKey);
    Entry entry = byDigest.get(HexFormat.of().formatHex(digest));
    if (entry == null || !MessageDigest.isEqual(entry.digest(), digest)) return null;
    return entry.key();
  }

  public int size() {
    return byDigest.size();
  }
}
