package dev.sluice.upstream;

import java.util.ArrayList;
import java.util.List;

/**
 * Signals that nobody wants the answer any more (the client went away). Used from one event loop only: the
 * request's own.
 */
public final class Cancellation {
  private List<Runnable> listeners = new ArrayList<>(2);
  private boolean cancelled;

  public boolean isCancelled() {
    return cancelled;
  }

  /** Runs {@code action} on cancel, or at once if already cancelled. */
  public void onCancel(Runnable action) {
    if (cancelled) {
      action.run();
    } else {
      listeners.add(action);
    }
  }

  public void cancel() {
    if (cancelled) return;
    cancelled = true;
    List<Runnable> toRun = listeners;
    listeners = List.of();
    toRun.forEach(Runnable::run);
  }
}
