package dev.sluice.cache;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SHA-256 over canonical JSON (keys sorted, numbers normalised so {@code 0}, {@code 0.0} and {@code 0e0} agree) of
 * the key version, tenant, endpoint, resolved alias, namespace and every output-affecting request field. Fields
 * that do not change the answer ({@code stream}, {@code stream_options}, {@code user}, {@code metadata},
 * {@code store}, the {@code cache} control object …) are left out, so a streamed and a non-streamed request share
 * an entry. The tenant is always part of the key; the key never leaves the gateway.
 */
public final class CacheKey {
  public static final int VERSION = 1;
  private static final Set<String> EXCLUDED = Set.of("stream", "stream_options", "user", "metadata", "store", "cache",
      "safety_identifier", "prompt_cache_key", "service_tier");

  private CacheKey() {}

  public static String of(String tenant, String endpoint, String alias, String namespace, JsonObject body) {
    StringBuilder canonical = new StringBuilder(256);
    canonical.append("{\"alias\":");
    string(canonical, alias);
    canonical.append(",\"body\":");
    JsonObject filtered = new JsonObject();
    for (Map.Entry<String, Object> field : body) {
      if (!EXCLUDED.contains(field.getKey()) && !field.getKey().equals("model")) filtered.put(field.getKey(), field.getValue());
    }
    write(canonical, filtered);
    canonical.append(",\"endpoint\":");
    string(canonical, endpoint);
    canonical.append(",\"namespace\":");
    string(canonical, namespace == null ? "" : namespace);
    canonical.append(",\"tenant\":");
    string(canonical, tenant);
    canonical.append(",\"v\":").append(VERSION).append('}');
    return sha256(canonical.toString());
  }

  /** The canonical form used for hashing (exposed for tests). */
  static String canonical(Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value);
    return sb.toString();
  }

  private static void write(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof JsonObject o) {
      writeObject(out, o.getMap());
    } else if (value instanceof Map<?, ?> m) {
      writeObject(out, m);
    } else if (value instanceof JsonArray a) {
      writeArray(out, a.getList());
    } else if (value instanceof List<?> l) {
      writeArray(out, l);
    } else if (value instanceof String s) {
      string(out, s);
    } else if (value instanceof Boolean b) {
      out.append(b);
    } else if (value instanceof Number n) {
      out.append(number(n));
    } else {
      string(out, String.valueOf(value));
    }
  }

  private static void writeObject(StringBuilder out, Map<?, ?> map) {
    List<String> keys = new ArrayList<>();
    for (Object k : map.keySet()) keys.add(String.valueOf(k));
    Collections.sort(keys);
    out.append('{');
    for (int i = 0; i < keys.size(); i++) {
      if (i > 0) out.append(',');
      string(out, keys.get(i));
      out.append(':');
      write(out, map.get(keys.get(i)));
    }
    out.append('}');
  }

  private static void writeArray(StringBuilder out, List<?> list) {
    out.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) out.append(',');
      write(out, list.get(i));
    }
    out.append(']');
  }

  static String number(Number n) {
    BigDecimal d;
    if (n instanceof BigDecimal b) {
      d = b;
    } else if (n instanceof BigInteger b) {
      d = new BigDecimal(b);
    } else if (n instanceof Double || n instanceof Float) {
      double v = n.doubleValue();
      if (Double.isNaN(v) || Double.isInfinite(v)) return "null";
      d = new BigDecimal(Double.toString(v));
    } else {
      d = BigDecimal.valueOf(n.longValue());
    }
    d = d.stripTrailingZeros();
    return d.signum() == 0 ? "0" : d.toPlainString();
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
