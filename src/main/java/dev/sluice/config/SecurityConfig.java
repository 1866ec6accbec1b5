package dev.sluice.config;

/** Secret material for tenant key digests; the pepper never leaves the process. */
public record SecurityConfig(String keyPepper) {
  public static final SecurityConfig DEFAULTS = new SecurityConfig(null);

  public SecurityConfig {
    keyPepper = keyPepper == null || keyPepper.isEmpty() ? "dev-pepper" : keyPepper;
  }

  @Override
  public String toString() {
    return "SecurityConfig[keyPepper=<redacted>]";
  }
}
