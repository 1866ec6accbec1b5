package dev.sluice;

import io.vertx.core.Future;
import java.util.Locale;

/**
 * A listener that could not bind, described with its address: Netty's native transport reports only
 * {@code bind(..) failed: Address already in use}, which does not say which of the listeners it was.
 */
public final class ListenFailure extends RuntimeException {
  ListenFailure(String message, Throwable cause) {
    super(message, cause, false, false);
  }

  /** The listen future, with a bind failure turned into a {@link ListenFailure} naming {@code host:port}. */
  static <T> Future<T> named(Future<T> listen, String host, int port) {
    return listen.recover(e -> Future.failedFuture(new ListenFailure(describe(e, host, port), e)));
  }

  /** {@code cannot listen on 0.0.0.0:8080: address already in use} (the lower-cased cause's last words). */
  static String describe(Throwable e, String host, int port) {
    String reason = null;
    for (Throwable c = e; c != null && reason == null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ListenFailure) return c.getMessage();
      String message = c.getMessage();
      if (message != null && !message.isBlank()) reason = message;
    }
    if (reason == null) reason = e.getClass().getSimpleName();
    // "bind(..) failed: Address already in use" → "address already in use"
    int colon = reason.lastIndexOf(": ");
    if (colon >= 0) reason = reason.substring(colon + 2);
    return "cannot listen on " + host + ":" + port + ": " + reason.toLowerCase(Locale.ROOT);
  }

  /** The first {@link ListenFailure} in a cause chain, or null. */
  static ListenFailure in(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ListenFailure failure) return failure;
    }
    return null;
  }
}
