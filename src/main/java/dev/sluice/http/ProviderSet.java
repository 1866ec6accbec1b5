package dev.sluice.http;

import dev.sluice.config.ProviderConfig;
import dev.sluice.upstream.AnthropicProvider;
import dev.sluice.upstream.AzureOpenAiProvider;
import dev.sluice.upstream.MockProvider;
import dev.sluice.upstream.OpenAiProvider;
import dev.sluice.upstream.Provider;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * This event loop's provider instances, keyed by name and rebuilt only when that provider's config changes on
 * reload. A replaced provider is closed after a grace period so requests still using the old snapshot finish.
 */
public final class ProviderSet {
  private record Entry(ProviderConfig config, Provider provider) {}

  private final Vertx vertx;
  private final int loops;
  private final long retireAfterMillis;
  private final Map<String, Entry> byName = new HashMap<>();

  /** @param loops how many event loops share each provider's connection budget */
  public ProviderSet(Vertx vertx, int loops, long retireAfterMillis) {
    this.vertx = vertx;
    this.loops = loops;
    this.retireAfterMillis = retireAfterMillis;
  }

  public Provider get(String name, ProviderConfig config) {
    Entry entry = byName.get(name);
    if (entry != null && entry.config().equals(config)) return entry.provider();
    Provider provider = switch (config.type()) {
      case MOCK -> new MockProvider(vertx, config);
      case OPENAI, OPENAI_COMPATIBLE -> new OpenAiProvider(vertx, config, loops);
      case AZURE -> new AzureOpenAiProvider(vertx, config, loops);
      case ANTHROPIC -> new AnthropicProvider(vertx, config, loops);
    };
    byName.put(name, new Entry(config, provider));
    if (entry != null) {
      Provider old = entry.provider();
      vertx.setTimer(retireAfterMillis, id -> old.close());
    }
    return provider;
  }

  public Future<Void> closeAll() {
    List<Future<Void>> closing = new ArrayList<>();
    byName.values().forEach(e -> closing.add(e.provider().close()));
    byName.clear();
    return Future.join(closing).mapEmpty();
  }
}
