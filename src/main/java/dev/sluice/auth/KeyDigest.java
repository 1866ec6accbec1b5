package dev.sluice.auth;

import dev.sluice.config.KeyConfig;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 digests of tenant keys under a server-side pepper. Keys are high-entropy, so a fast keyed hash is
 * enough; the pepper means a leaked config alone cannot confirm a guessed key.
 */
public final class KeyDigest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final SecretKeySpec pepper;
  private final ThreadLocal<Mac> macs;

  public KeyDigest(String pepper) {
    this.pepper = new SecretKeySpec(pepper.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    this.macs = ThreadLocal.withInitial(this::newMac);
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(pepper);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** Raw 32-byte digest of a presented key. */
  public byte[] digest(String key) {
    return macs.get().doFinal(key.getBytes(StandardCharsets.UTF_8));
  }

  /** The config form: {@code hmac-sha256:<hex>}. */
  public String configDigest(String key) {
    return KeyConfig.DIGEST_PREFIX + HexFormat.of().formatHex(digest(key));
  }

  /** A fresh tenant key: 32 random bytes, URL-safe base64, with a recognisable prefix. */
  public static String generateKey() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return "sk-sluice-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
