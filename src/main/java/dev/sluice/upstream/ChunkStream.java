package dev.sluice.upstream;

import io.vertx.core.Handler;

/**
 * The rest of a committed stream, after its first event. Delivers chunks until {@link ChatChunk#DONE}, then calls
 * the end handler; or calls the failure handler once (idle timeout, EOF, malformed or error event). Exactly one of
 * the two is called unless {@link #cancel()} came first. Starts paused: call {@link #resume()} once handlers are set.
 */
public interface ChunkStream {
  ChunkStream handler(Handler<ChatChunk> handler);

  ChunkStream endHandler(Handler<Void> handler);

  ChunkStream failureHandler(Handler<UpstreamFailure> handler);

  /** Stops delivery (backpressure); upstream reads pause and idle timing is suspended. */
  void pause();

  void resume();

  /** Abandons the stream and resets the upstream connection; no handler is called afterwards. */
  void cancel();
}
