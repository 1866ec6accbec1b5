package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import dev.sluice.testing.Await;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** An OutOfMemoryError anywhere Sluice can see it halts with status 3; other failures do not. (Halt is recorded.) */
class FatalErrorsTest {
  final CopyOnWriteArrayList<Integer> halts = new CopyOnWriteArrayList<>();
  Vertx vertx;
  Thread.UncaughtExceptionHandler previous;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    previous = Thread.getDefaultUncaughtExceptionHandler();
  }

  @AfterEach
  void stop() {
    Thread.setDefaultUncaughtExceptionHandler(previous);
    vertx.close().await();
  }

  @Test
  void outOfMemoryInAnEventLoopHandlerHalts() throws Exception {
    FatalErrors.installVertxHandler(vertx, halts::add);
    vertx.runOnContext(v -> {
      throw new OutOfMemoryError("Java heap space");
    });
    Await.until(vertx, Duration.ofSeconds(20), "halted", () -> halts.contains(3));
  }

  @Test
  void anOrdinaryExceptionInAHandlerDoesNotHalt() throws Exception {
    FatalErrors.installVertxHandler(vertx, halts::add);
    boolean[] after = {false};
    vertx.runOnContext(v -> {
      throw new IllegalStateException("a bug, not fatal");
    });
    vertx.runOnContext(v -> after[0] = true);
    Await.until(vertx, Duration.ofSeconds(20), "the event loop goes on", () -> after[0]);
    assertThat(halts).isEmpty();
  }

  @Test
  void outOfMemoryEndingAThreadHalts() throws Exception {
    FatalErrors.installThreadHandler(halts::add);
    Thread thread = new Thread(() -> {
      throw new OutOfMemoryError("Direct buffer memory");
    });
    thread.start();
    thread.join();
    assertThat(halts).containsExactly(3);
  }

  @Test
  void outOfMemoryThatALibraryCatchesAndLogsHalts() {
    TurboFilter filter = FatalErrors.installLogHook(halts::add);
    try {
      // what Netty does with a throwable from an event-loop task: log it and go on
      LoggerFactory.getLogger("io.netty.util.concurrent.AbstractEventExecutor")
          .debug("A task raised an exception.", new RuntimeException(new OutOfMemoryError("Java heap space")));
      LoggerFactory.getLogger("io.netty.util.concurrent.AbstractEventExecutor").warn("unrelated", new RuntimeException());
      assertThat(halts).containsExactly(3);
    } finally {
      ((LoggerContext) LoggerFactory.getILoggerFactory()).getTurboFilterList().remove(filter);
    }
  }
}
