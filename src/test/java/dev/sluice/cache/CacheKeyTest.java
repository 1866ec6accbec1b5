package dev.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class CacheKeyTest {
  static String key(String tenant, String json) {
    return CacheKey.of(tenant, "chat", "gpt-4o-mini", "", new JsonObject(json));
  }

  @Test
  void fieldOrderAndNumberSpellingDoNotMatter() {
    assertThat(key("a", "{\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_p\":1.0}"))
        .isEqualTo(key("a", "{\"top_p\":1,\"messages\":[{\"content\":\"hi\",\"role\":\"user\"}],\"temperature\":0.0}"));
  }

  @Test
  void transportFieldsAreNotPartOfTheKey() {
    assertThat(key("a", "{\"temperature\":0,\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":true},\"user\":\"u1\",\"metadata\":{\"x\":1},\"store\":true,\"cache\":{\"ttl\":5}}"))
        .isEqualTo(key("a", "{\"temperature\":0,\"messages\":[]}"));
  }

  @Test
  void tenantAndOutputAffectingFieldsChangeTheKey() {
    String base = key("a", "{\"temperature\":0,\"messages\":[]}");
    assertThat(key("b", "{\"temperature\":0,\"messages\":[]}")).isNotEqualTo(base);
    assertThat(key("a", "{\"temperature\":0,\"messages\":[],\"max_tokens\":5}")).isNotEqualTo(base);
    assertThat(key("a", "{\"temperature\":0,\"messages\":[],\"seed\":1}")).isNotEqualTo(base);
    assertThat(key("a", "{\"temperature\":0,\"messages\":[],\"tools\":[]}")).isNotEqualTo(base);
    assertThat(CacheKey.of("a", "chat", "gpt-4o-mini", "ns", new JsonObject("{\"temperature\":0,\"messages\":[]}"))).isNotEqualTo(base);
  }

  @Test
  void canonicalJsonKeepsStringBoundaries() {
    assertThat(CacheKey.canonical(new JsonObject("{\"a\":[\"ab\",\"c\"]}")))
        .isNotEqualTo(CacheKey.canonical(new JsonObject("{\"a\":[\"a\",\"bc\"]}")));
    assertThat(CacheKey.number(1e2)).isEqualTo("100");
    assertThat(CacheKey.number(0.50)).isEqualTo("0.5");
  }
}
