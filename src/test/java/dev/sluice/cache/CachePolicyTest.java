package dev.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.TenantCacheConfig;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CachePolicyTest {
  static final TenantCacheConfig ON = new TenantCacheConfig(true, Duration.ofHours(1));

  static CacheDirective chat(String json, String cacheControl) {
    return CachePolicy.decide(ON, false, new JsonObject(json), cacheControl);
  }

  @Test
  void onlyTemperatureZeroWithOneChoiceIsCacheable() {
    assertThat(chat("{\"temperature\":0}", null).status()).isEqualTo("MISS");
    assertThat(chat("{}", null).status()).as("absent temperature is the provider default").isEqualTo("BYPASS");
    assertThat(chat("{\"temperature\":0.7}", null).status()).isEqualTo("BYPASS");
    assertThat(chat("{\"temperature\":0,\"n\":2}", null).status()).isEqualTo("BYPASS");
    assertThat(CachePolicy.decide(ON, true, new JsonObject(), null).status()).as("embeddings").isEqualTo("MISS");
    assertThat(CachePolicy.decide(new TenantCacheConfig(false, null), true, new JsonObject(), null).status()).isEqualTo("DISABLED");
  }

  @Test
  void controlsFromHeaderAndBody() {
    CacheDirective refresh = chat("{\"temperature\":0}", "no-cache");
    assertThat(refresh.status()).isEqualTo("REFRESH");
    assertThat(refresh.read()).isFalse();
    assertThat(refresh.write()).isTrue();
    assertThat(chat("{\"temperature\":0}", "no-store").write()).isFalse();
    assertThat(chat("{\"temperature\":0}", "max-age=30").maxAgeSeconds()).isEqualTo(30);
    CacheDirective forced = chat("{\"temperature\":0.9,\"cache\":{\"ttl\":60,\"namespace\":\"exp\"}}", null);
    assertThat(forced.status()).isEqualTo("MISS");
    assertThat(forced.ttl()).isEqualTo(Duration.ofSeconds(60));
    assertThat(forced.namespace()).isEqualTo("exp");
    assertThat(chat("{\"temperature\":0,\"cache\":{\"ttl\":99999}}", null).ttl()).as("never beyond the tenant's TTL")
        .isEqualTo(Duration.ofHours(1));
  }
}
