package dev.sluice.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerResponse;
import java.util.Set;

/**
 * Allow-lists for headers crossing the gateway. Everything not listed is dropped in both directions:
 * client credentials, cookies, {@code x-sluice-*} controls and hop-by-hop headers never reach a provider, and
 * provider cookies or organisation/project ids never reach a client.
 */
final class HeaderPolicy {
  private static final Set<String> TO_UPSTREAM = Set.of("openai-beta", "anthropic-version", "anthropic-beta");
  private static final Set<String> FROM_UPSTREAM = Set.of("openai-processing-ms", "openai-version");

  private HeaderPolicy() {}

  /** The client headers a provider may see (content-type and accept are set by the provider adapter itself). */
  static MultiMap toUpstream(MultiMap clientHeaders) {
    MultiMap out = MultiMap.caseInsensitiveMultiMap();
    for (String name : TO_UPSTREAM) {
      String value = clientHeaders.get(name);
      if (value != null) out.set(name, value);
    }
    return out;
  }

  /** Copies the allowed provider headers; the provider's request id is renamed so ours stays authoritative. */
  static void fromUpstream(MultiMap upstreamHeaders, HttpServerResponse response) {
    for (String name : FROM_UPSTREAM) {
      String value = upstreamHeaders.get(name);
      if (value != null) response.putHeader(name, value);
    }
    String upstreamId = upstreamHeaders.get("x-request-id");
    if (upstreamId != null && upstreamId.length() <= 128) response.putHeader("x-upstream-request-id", upstreamId);
  }
}
