package dev.sluice.upstream;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/** A successful attempt at its commit point: a complete JSON body, or a stream whose first event has arrived. */
public sealed interface UpstreamReply permits UpstreamReply.Json, UpstreamReply.Stream {
  MultiMap headers();

  record Json(int status, MultiMap headers, Buffer body, JsonObject json) implements UpstreamReply {}

  record Stream(int status, MultiMap headers, ChatChunk first, ChunkStream rest) implements UpstreamReply {}
}
