package dev.sluice.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.deser.std.FromStringDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads YAML, substitutes {@code ${ENV}} / {@code ${ENV:-default}} inside string values (never in keys, so an env
 * value cannot change the document's structure), and binds the typed records. Every failure is a
 * {@link ConfigException} naming the field path.
 */
public final class ConfigLoader {
  private static final Pattern ENV_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern VALUE_MESSAGE = Pattern.compile("^([^ :]+): .* \\(expected: (.*)\\)$", Pattern.DOTALL);
  private static final Pattern FIELD_MESSAGE = Pattern.compile("^([a-z][a-z0-9-]*): ");
  private static final ObjectMapper YAML = createMapper();
  /** Fields whose values are never repeated in a message, wherever they came from. */
  private static final Set<String> SECRET_FIELDS = Set.of("api-key", "key-pepper", "admin-token", "digest", "url");

  private ConfigLoader() {}

  private static ObjectMapper createMapper() {
    SimpleModule module = new SimpleModule("sluice-config");
    module.addDeserializer(Duration.class, stringDeserializer(Duration.class, Durations::parse,
        "a duration like 500ms, 30s, 5m"));
    module.addDeserializer(ByteSize.class, stringDeserializer(ByteSize.class, ByteSize::parse,
        "a size like 10MiB, 64KiB or a number of bytes"));
    ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
    mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    mapper.setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE);
    mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    mapper.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    mapper.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    mapper.registerModule(module);
    return mapper;
  }

  private static <T> FromStringDeserializer<T> stringDeserializer(Class<T> type, Function<String, T> parse, String expected) {
    return new FromStringDeserializer<>(type) {
      @Override
      protected T _deserialize(String value, com.fasterxml.jackson.databind.DeserializationContext ctx) {
        try {
          return parse.apply(value);
        } catch (RuntimeException e) {
          throw new IllegalArgumentException(value + " (expected: " + expected + ")");
        }
      }

      @Override
      protected T _deserializeFromEmptyString(com.fasterxml.jackson.databind.DeserializationContext ctx) {
        return null;
      }
    };
  }

  /** Reads and validates a file; blocking, so call it before deployment or from a worker. */
  public static SluiceConfig load(Path file, Map<String, String> env) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read (" + e.getClass().getSimpleName() + ")");
    }
    return parse(text, env);
  }

  public static SluiceConfig parse(String yaml, Map<String, String> env) {
    JsonNode tree;
    try {
      tree = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new ConfigException("(document): not valid YAML at line " + e.getLocation().getLineNr()
          + " (" + e.getOriginalMessage().split("\n")[0] + ")");
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) tree = YAML.createObjectNode();
    if (!tree.isObject()) throw new ConfigException("(document): " + tree.getNodeType() + " (expected: a mapping of sections)");
    // Unknown keys first: a misspelt required key would otherwise surface only as "missing" or "empty".
    List<String> problems = new ArrayList<>(ConfigSchema.unknownKeys(tree));
    Set<String> fromEnv = new HashSet<>();
    JsonNode substituted = substitute(tree, "", env, problems, fromEnv);
    if (!problems.isEmpty()) throw new ConfigException(problems);
    try {
      return YAML.treeToValue(substituted, SluiceConfig.class);
    } catch (JsonMappingException e) {
      // Cross-reference checks report every problem at once; keep them as separate lines.
      ConfigException nested = findCause(e, ConfigException.class);
      if (nested != null) throw nested;
      throw new ConfigException(withoutEnvValue(describe(e, substituted, fromEnv), fromEnv));
    } catch (JsonProcessingException e) {
      throw new ConfigException("(document): " + e.getOriginalMessage());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static String describe(JsonMappingException e, JsonNode tree, Set<String> fromEnv) {
    String path = path(e.getPath());
    if (e instanceof UnrecognizedPropertyException u) {
      return join(path) + ": unknown key (expected: one of " + u.getKnownPropertyIds() + ")";
    }
    if (e instanceof MismatchedInputException m && findCause(e, IllegalArgumentException.class) == null) {
      // Jackson's own text echoes the raw value and Java type names; say what was found and what was expected.
      return join(path) + ": " + shown(node(tree, e.getPath()), path, fromEnv) + " (expected: " + expected(m.getTargetType()) + ")";
    }
    IllegalArgumentException cause = findCause(e, IllegalArgumentException.class);
    if (cause != null && cause.getMessage() != null) {
      String message = cause.getMessage();
      Matcher field = FIELD_MESSAGE.matcher(message);
      if (!field.find()) return join(path) + ": " + message;
      // Record constructors name their own field; the mapper's path ends at the containing object (or the field).
      String name = field.group(1);
      if (path.equals(name)) return message;
      if (path.endsWith("." + name)) return path.substring(0, path.length() - name.length()) + message;
      return path.isEmpty() ? message : path + "." + message;
    }
    return join(path) + ": " + e.getOriginalMessage().split("\n")[0].replaceAll(" \\(class [^)]*\\)", "");
  }

  /** {@code path: value (expected: …)} with the value hidden when it was substituted from the environment. */
  private static String withoutEnvValue(String message, Set<String> fromEnv) {
    Matcher m = VALUE_MESSAGE.matcher(message);
    if (!m.matches() || !fromEnv.contains(m.group(1))) return message;
    return m.group(1) + ": <redacted> (expected: " + m.group(2) + ")";
  }

  /** A value for a message: never one that came from the environment or sits in a secret-bearing field. */
  private static String shown(JsonNode node, String path, Set<String> fromEnv) {
    if (node == null || node.isMissingNode()) return "invalid value";
    if (node.isNull()) return "null";
    if (node.isArray()) return "a list";
    if (node.isObject()) return "a mapping";
    String last = path.substring(Math.max(path.lastIndexOf('.'), path.lastIndexOf(']')) + 1);
    if (fromEnv.contains(path) || SECRET_FIELDS.contains(last)) return "<redacted>";
    if (node.isTextual()) {
      String text = node.textValue();
      return "\"" + (text.length() > 64 ? text.substring(0, 64) + "…" : text) + "\"";
    }
    return node.asText();
  }

  private static String expected(Class<?> type) {
    if (type == null) return "a different type";
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) return "an integer";
    if (type == Double.class || type == double.class) return "a number";
    if (type == Boolean.class || type == boolean.class) return "true or false";
    if (type == String.class) return "a string";
    if (java.util.Collection.class.isAssignableFrom(type)) return "a list";
    return "a mapping";
  }

  private static JsonNode node(JsonNode tree, List<JsonMappingException.Reference> refs) {
    JsonNode node = tree;
    for (JsonMappingException.Reference ref : refs) {
      if (node == null) return null;
      node = ref.getIndex() >= 0 ? node.get(ref.getIndex()) : ref.getFieldName() != null ? node.get(ref.getFieldName()) : node;
    }
    return node;
  }

  private static String join(String path) {
    return path.isEmpty() ? "(document)" : path;
  }

  private static String path(List<JsonMappingException.Reference> refs) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference ref : refs) {
      if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      } else if (ref.getFieldName() != null) {
        if (sb.length() > 0) sb.append('.');
        sb.append(ref.getFieldName());
      }
    }
    return sb.toString();
  }

  private static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) return type.cast(c);
      if (c.getCause() == c) break;
    }
    return null;
  }

  private static JsonNode substitute(JsonNode node, String path, Map<String, String> env, List<String> problems,
                                     Set<String> fromEnv) {
    if (node.isTextual()) {
      String text = node.textValue();
      String expanded = expand(text, path, env, problems);
      if (!expanded.equals(text) || ENV_REF.matcher(text).find()) fromEnv.add(path);
      return TextNode.valueOf(expanded);
    }
    if (node.isObject()) {
      ObjectNode copy = YAML.createObjectNode();
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        copy.set(f.getKey(), substitute(f.getValue(), path.isEmpty() ? f.getKey() : path + "." + f.getKey(), env, problems, fromEnv));
      }
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = YAML.createArrayNode();
      for (int i = 0; i < node.size(); i++) copy.add(substitute(node.get(i), path + "[" + i + "]", env, problems, fromEnv));
      return copy;
    }
    return node;
  }

  static String expand(String value, String path, Map<String, String> env, List<String> problems) {
    Matcher m = ENV_REF.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1);
      String replacement = env.get(name);
      if (replacement == null || replacement.isEmpty() && m.group(2) != null) replacement = m.group(2);
      if (replacement == null) {
        problems.add(path + ": environment variable " + name + " is not set (expected: set it, or write ${" + name + ":-default})");
        replacement = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }
}
