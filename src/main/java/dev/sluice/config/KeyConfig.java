package dev.sluice.config;

/** A tenant key as stored: a non-secret id for logs and the key's HMAC-SHA256 digest. */
public record KeyConfig(String id, String digest) {
  public static final String DIGEST_PREFIX = "hmac-sha256:";

  public KeyConfig {
    Checks.required("id", id);
    if (digest == null || !digest.matches("hmac-sha256:[0-9a-f]{64}")) {
      throw new IllegalArgumentException("digest: <redacted> (expected: hmac-sha256:<64 lowercase hex>, printed by `sluice hash-key`)");
    }
  }

  @Override
  public String toString() {
    return "KeyConfig[id=" + id + "]";
  }
}
