package dev.sluice.cache;

import dev.sluice.config.Durations;
import dev.sluice.config.TenantCacheConfig;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Locale;

/**
 * Cacheability: the tenant opted in, and the request is deterministic — chat with {@code temperature == 0}
 * (absent means the provider's default, which is not 0) and one choice; embeddings always — or the client forces it
 * with the LiteLLM-compatible {@code cache} body object. Controls: {@code Cache-Control: no-cache} (skip the read),
 * {@code no-store} (skip the write), {@code max-age=N} (older entries are misses), and the same in the body object
 * ({@code no-cache}, {@code no-store}, {@code s-maxage}, {@code ttl}, {@code namespace}). A client may shorten the
 * tenant's TTL, never extend it.
 */
public final class CachePolicy {
  private CachePolicy() {}

  public static CacheDirective decide(TenantCacheConfig tenant, boolean embeddings, JsonObject body, String cacheControl) {
    if (!tenant.enabled()) return CacheDirective.DISABLED;
    JsonObject control = body.getValue("cache") instanceof JsonObject c ? c : null;
    if (!embeddings) {
      Object n = body.getValue("n");
      if (n != null && !(n instanceof Number num && num.longValue() == 1)) return CacheDirective.NOT_CACHEABLE;
      boolean deterministic = body.getValue("temperature") instanceof Number t && t.doubleValue() == 0.0;
      if (!deterministic && control == null) return CacheDirective.NOT_CACHEABLE;
    }
    boolean noCache = false;
    boolean noStore = false;
    long maxAge = -1;
    if (cacheControl != null) {
      for (String part : cacheControl.toLowerCase(Locale.ROOT).split(",")) {
        String directive = part.trim();
        if (directive.equals("no-cache")) noCache = true;
        if (directive.equals("no-store")) noStore = true;
        if (directive.startsWith("max-age=")) maxAge = parseSeconds(directive.substring(8));
      }
    }
    Duration ttl = tenant.ttl();
    String namespace = "";
    if (control != null) {
      noCache |= Boolean.TRUE.equals(control.getValue("no-cache"));
      noStore |= Boolean.TRUE.equals(control.getValue("no-store"));
      if (control.getValue("s-maxage") != null) maxAge = parseSeconds(String.valueOf(control.getValue("s-maxage")));
      if (control.getValue("namespace") instanceof String ns) namespace = ns;
      Duration requested = duration(control.getValue("ttl"));
      if (requested != null && requested.compareTo(ttl) < 0 && !requested.isNegative() && !requested.isZero()) ttl = requested;
    }
    return new CacheDirective(noCache ? "REFRESH" : "MISS", !noCache, !noStore, ttl, maxAge, namespace);
  }

  private static long parseSeconds(String text) {
    try {
      return Math.max(0, (long) Double.parseDouble(text.trim()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static Duration duration(Object value) {
    if (value instanceof Number n) return Duration.ofMillis((long) (n.doubleValue() * 1000));
    if (value instanceof String s) {
      try {
        return s.matches("\\d+(\\.\\d+)?") ? Duration.ofMillis((long) (Double.parseDouble(s) * 1000)) : Durations.parse(s);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    return null;
  }
}
