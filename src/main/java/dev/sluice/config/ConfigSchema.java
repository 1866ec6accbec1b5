package dev.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The keys the loader accepts, read off the config records themselves (kebab-case component names; maps of records
 * take any name, lists any length). Used to report every unknown key — with a did-you-mean — before anything else is
 * checked, so a typo in a required key reads as a typo and not as "empty", and to list every accepted key.
 */
final class ConfigSchema {
  private static final PropertyNamingStrategies.KebabCaseStrategy KEBAB = new PropertyNamingStrategies.KebabCaseStrategy();
  /** Records bound from a single string, not from a mapping. */
  private static final Set<Class<?>> SCALARS = Set.of(ByteSize.class, Duration.class);

  private ConfigSchema() {}

  /** {@code path: unknown key (did you mean 'x'?)} for every key of the document that no record declares. */
  static List<String> unknownKeys(JsonNode document) {
    List<String> problems = new ArrayList<>();
    check(document, SluiceConfig.class, "", problems);
    return problems;
  }

  /**
   * Every accepted key as a path: {@code server.port}, {@code providers.*.timeouts.connect},
   * {@code tenants[].keys[].id}; free-form maps end in {@code .*} ({@code tenants[].labels.*}).
   */
  static Set<String> acceptedKeys() {
    Set<String> keys = new TreeSet<>();
    collect(SluiceConfig.class, "", keys);
    return keys;
  }

  /** The keys a document uses, as paths in the form of {@link #acceptedKeys()} (unknown keys are left out). */
  static Set<String> usedKeys(JsonNode document) {
    Set<String> keys = new TreeSet<>();
    used(document, SluiceConfig.class, "", keys);
    return keys;
  }

  private static void check(JsonNode node, Type type, String path, List<String> problems) {
    if (node == null || node.isNull()) return;
    Class<?> raw = raw(type);
    if (isMapping(raw)) {
      if (!node.isObject()) return; // a type mismatch: reported when binding
      List<String> names = names(raw);
      Iterator<String> fields = node.fieldNames();
      while (fields.hasNext()) {
        String field = fields.next();
        String at = path.isEmpty() ? field : path + "." + field;
        int i = names.indexOf(field);
        if (i < 0) {
          problems.add(at + ": unknown key " + suggestion(field, names));
        } else {
          check(node.get(field), raw.getRecordComponents()[i].getGenericType(), at, problems);
        }
      }
    } else if (raw == java.util.Map.class && node.isObject()) {
      Type value = argument(type, 1);
      Iterator<String> fields = node.fieldNames();
      while (fields.hasNext()) {
        String field = fields.next();
        check(node.get(field), value, path + "." + field, problems);
      }
    } else if (raw == List.class && node.isArray()) {
      Type element = argument(type, 0);
      for (int i = 0; i < node.size(); i++) check(node.get(i), element, path + "[" + i + "]", problems);
    }
  }

  private static void collect(Type type, String path, Set<String> keys) {
    Class<?> raw = raw(type);
    if (isMapping(raw)) {
      for (RecordComponent c : raw.getRecordComponents()) {
        String at = path.isEmpty() ? KEBAB.translate(c.getName()) : path + "." + KEBAB.translate(c.getName());
        keys.add(at);
        collect(c.getGenericType(), at, keys);
      }
    } else if (raw == java.util.Map.class) {
      Type value = argument(type, 1);
      if (isMapping(raw(value))) {
        collect(value, path + ".*", keys);
      } else {
        keys.add(path + ".*");
      }
    } else if (raw == List.class) {
      collect(argument(type, 0), path + "[]", keys);
    }
  }

  private static void used(JsonNode node, Type type, String path, Set<String> keys) {
    if (node == null) return;
    Class<?> raw = raw(type);
    if (isMapping(raw) && node.isObject()) {
      List<String> names = names(raw);
      for (int i = 0; i < names.size(); i++) {
        if (!node.has(names.get(i))) continue;
        String at = path.isEmpty() ? names.get(i) : path + "." + names.get(i);
        keys.add(at);
        used(node.get(names.get(i)), raw.getRecordComponents()[i].getGenericType(), at, keys);
      }
    } else if (raw == java.util.Map.class && node.isObject()) {
      Type value = argument(type, 1);
      if (!isMapping(raw(value))) {
        if (node.size() > 0) keys.add(path + ".*");
        return;
      }
      node.fields().forEachRemaining(e -> used(e.getValue(), value, path + ".*", keys));
    } else if (raw == List.class && node.isArray()) {
      Type element = argument(type, 0);
      node.forEach(e -> used(e, element, path + "[]", keys));
    }
  }

  /** {@code (did you mean 'x'?)} for a near miss (a typo, snake_case or camelCase), else the list of keys. */
  static String suggestion(String field, List<String> names) {
    String kebab = KEBAB.translate(field).replace('_', '-');
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String name : names) {
      int d = kebab.equals(name) ? 0 : distance(field.toLowerCase(java.util.Locale.ROOT), name);
      if (d < bestDistance) {
        best = name;
        bestDistance = d;
      }
    }
    int allowed = field.length() <= 4 ? 1 : field.length() <= 8 ? 2 : 3;
    if (best != null && bestDistance <= allowed) return "(did you mean '" + best + "'?)";
    return "(expected: one of " + names + ")";
  }

  /** Edit distance where swapping two neighbouring letters counts as one edit (optimal string alignment). */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) d[i][0] = i;
    for (int j = 0; j <= b.length(); j++) d[0][j] = j;
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  private static boolean isMapping(Class<?> raw) {
    return raw.isRecord() && !SCALARS.contains(raw);
  }

  private static List<String> names(Class<?> record) {
    List<String> names = new ArrayList<>();
    for (RecordComponent c : record.getRecordComponents()) names.add(KEBAB.translate(c.getName()));
    return names;
  }

  private static Class<?> raw(Type type) {
    if (type instanceof Class<?> c) return c;
    if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> c) return c;
    return Object.class;
  }

  private static Type argument(Type type, int index) {
    return type instanceof ParameterizedType p ? p.getActualTypeArguments()[index] : Object.class;
  }
}
