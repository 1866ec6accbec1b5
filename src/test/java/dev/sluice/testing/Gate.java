package dev.sluice.testing;

import dev.sluice.testing.FakeUpstream.Script;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;

/**
 * Upstream answers held until the test opens the gate, instead of a scripted delay raced against a gateway timeout
 * (on a loaded machine any delay can lose that race). Requests that arrive after {@link #open()} are answered at once.
 */
public final class Gate {
  private final List<Runnable> parked = new ArrayList<>();
  private boolean open;

  /** A script that parks each request until {@link #open()}, then plays {@code answer} on it. */
  public Script holding(Script answer) {
    return ex -> {
      Context context = Vertx.currentContext();
      synchronized (this) {
        if (!open) {
          parked.add(() -> context.runOnContext(v -> answer.play(ex)));
          return;
        }
      }
      answer.play(ex);
    };
  }

  /** Requests parked now. */
  public synchronized int held() {
    return parked.size();
  }

  /** Answers every parked request and every later one. */
  public void open() {
    List<Runnable> release;
    synchronized (this) {
      open = true;
      release = new ArrayList<>(parked);
      parked.clear();
    }
    release.forEach(Runnable::run);
  }
}
