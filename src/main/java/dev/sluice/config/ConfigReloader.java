package dev.sluice.config;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the config file (modification time and size, polled asynchronously) and reloads it on change or on
 * {@link #reload()} (SIGHUP). Validate-then-swap: a file that fails validation is logged and ignored, and the
 * running config stays.
 */
public final class ConfigReloader {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

  private final Vertx vertx;
  private final Path file;
  private final Map<String, String> env;
  private final Consumer<SluiceConfig> apply;
  private long timer = -1;
  private String lastStamp = "";
  private boolean loading;

  public ConfigReloader(Vertx vertx, Path file, Map<String, String> env, Consumer<SluiceConfig> apply) {
    this.vertx = vertx;
    this.file = file;
    this.env = env;
    this.apply = apply;
  }

  /** Starts polling every {@code periodMillis}; the current file is taken as already loaded. */
  public Future<Void> watch(long periodMillis) {
    return stamp().map(s -> {
      lastStamp = s;
      timer = vertx.setPeriodic(periodMillis, id -> poll());
      return null;
    });
  }

  private Future<String> stamp() {
    return vertx.fileSystem().props(file.toString()).map(p -> p.lastModifiedTime() + ":" + p.size());
  }

  private void poll() {
    stamp().onSuccess(s -> {
      if (!s.equals(lastStamp)) {
        lastStamp = s;
        reload();
      }
    });
  }

  /** Reads, validates and applies the file now; completes with whether it was applied. */
  public Future<Boolean> reload() {
    if (loading) return Future.succeededFuture(false);
    loading = true;
    return vertx.executeBlocking(() -> ConfigLoader.load(file, env))
        .map(config -> {
          apply.accept(config);
          LOG.info("configuration reloaded from {}", file);
          return true;
        })
        .otherwise(failure -> {
          String detail = failure instanceof ConfigException c ? String.join("; ", c.problems()) : failure.getClass().getSimpleName();
          LOG.warn("configuration reload rejected, keeping the running config: {}", detail);
          return false;
        })
        .onComplete(ar -> loading = false);
  }

  public void stop() {
    if (timer != -1) vertx.cancelTimer(timer);
  }
}
