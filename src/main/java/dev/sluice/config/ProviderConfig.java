package dev.sluice.config;

import java.net.URI;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * One upstream provider. The {@code apiKey} is a secret: it is redacted from {@link #toString()} and only ever
 * placed in the upstream request's auth header.
 *
 * @param maxConnections upstream connection pool size across the whole process
 * @param maxWaitQueue requests allowed to wait for a pooled connection before new ones get 503 {@code overloaded}
 * @param latency mock only: delay before the first byte
 * @param apiVersion azure only: the {@code api-version} query parameter
 * @param tokensPerSecond mock only: streaming speed
 * @param defaultMaxTokens anthropic only: {@code max_tokens} (required there) when the request sets none
 */
public record ProviderConfig(ProviderType type, String baseUrl, String apiKey, String apiVersion, Integer maxConnections,
                             Integer maxWaitQueue, ProviderTimeouts timeouts, Duration latency, Integer tokensPerSecond,
                             Integer defaultMaxTokens) {
  private static final Pattern API_VERSION = Pattern.compile("[A-Za-z0-9._-]{1,40}");

  public ProviderConfig {
    if (type == null) {
      throw new IllegalArgumentException("type: missing (expected: openai | azure | anthropic | openai-compatible | mock)");
    }
    apiKey = apiKey == null ? "" : apiKey;
    maxConnections = Checks.positive("max-connections", maxConnections, 200);
    maxWaitQueue = Checks.nonNegative("max-wait-queue", maxWaitQueue, maxConnections * 4);
    timeouts = timeouts == null ? ProviderTimeouts.DEFAULTS : timeouts;
    latency = latency == null ? Duration.ofMillis(20) : latency;
    if (latency.isNegative()) throw new IllegalArgumentException("latency: " + latency + " (expected: >= 0)");
    tokensPerSecond = Checks.positive("tokens-per-second", tokensPerSecond, 200);
    defaultMaxTokens = Checks.positive("default-max-tokens", defaultMaxTokens, 4096);
    switch (type) {
      case OPENAI, OPENAI_COMPATIBLE -> {
        baseUrl = baseUrl == null && type == ProviderType.OPENAI ? "https://api.openai.com/v1" : baseUrl;
        validateBaseUrl(baseUrl, type);
        if (type == ProviderType.OPENAI && apiKey.isBlank()) {
          throw new IllegalArgumentException("api-key: missing (expected: a key, usually \"${OPENAI_API_KEY}\")");
        }
      }
      case AZURE -> {
        validateBaseUrl(baseUrl, type);
        if (apiKey.isBlank()) {
          throw new IllegalArgumentException("api-key: missing (expected: a key, usually \"${AZURE_OPENAI_API_KEY}\")");
        }
        if (apiVersion == null || apiVersion.isBlank()) {
          throw new IllegalArgumentException("api-version: missing (expected: the Azure OpenAI api-version, e.g. 2024-10-21)");
        }
        if (!API_VERSION.matcher(apiVersion).matches()) {
          throw new IllegalArgumentException("api-version: " + apiVersion + " (expected: e.g. 2024-10-21 or 2025-01-01-preview)");
        }
      }
      case ANTHROPIC -> {
        baseUrl = baseUrl == null ? "https://api.anthropic.com" : baseUrl;
        validateBaseUrl(baseUrl, type);
        if (apiKey.isBlank()) {
          throw new IllegalArgumentException("api-key: missing (expected: a key, usually \"${ANTHROPIC_API_KEY}\")");
        }
      }
      case MOCK -> {
        baseUrl = "";
      }
    }
  }

  private static void validateBaseUrl(String baseUrl, ProviderType type) {
    boolean httpsRequired = type != ProviderType.OPENAI_COMPATIBLE;
    if (baseUrl == null || baseUrl.isBlank()) throw new IllegalArgumentException("base-url: missing (expected: http(s)://host[:port]/path)");
    URI uri;
    try {
      uri = URI.create(baseUrl);
    } catch (IllegalArgumentException e) {
      // not echoed: an unparseable URL may carry a credential we cannot locate
      throw new IllegalArgumentException("base-url: not a valid URL (expected: http(s)://host[:port]/path)");
    }
    // checked first so the messages below, which echo the URL, never carry a credential
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("base-url: has user-info, query or fragment (expected: plain URL; keys go in api-key)");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme();
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new IllegalArgumentException("base-url: " + baseUrl + " (expected: http(s)://host[:port]/path)");
    }
    boolean loopback = uri.getHost().equals("localhost") || uri.getHost().startsWith("127.") || uri.getHost().equals("[::1]");
    if (httpsRequired && scheme.equals("http") && !loopback) {
      throw new IllegalArgumentException("base-url: " + baseUrl + " (expected: https for type " + type.wireName() + ", except on loopback)");
    }
  }

  public URI uri() {
    return URI.create(baseUrl);
  }

  @Override
  public String toString() {
    return "ProviderConfig[type=" + type.wireName() + ", baseUrl=" + baseUrl + ", apiKey=<redacted>]";
  }
}
