package dev.sluice.redis;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Lua script run with {@code EVALSHA}; the SHA-1 is computed locally, and a {@code NOSCRIPT} reply (script cache
 * emptied by a restart, failover or {@code SCRIPT FLUSH}) is answered with one {@code EVAL}, which reloads it.
 * vertx-redis-client 5.0.7 has no script helper, hence this class.
 */
public record LuaScript(String name, String text, String sha) {

  /** Loads a classpath resource next to {@code owner}. */
  public static LuaScript load(Class<?> owner, String name) {
    try (InputStream in = owner.getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException("missing script " + name);
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      byte[] sha = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
      return new LuaScript(name, text, HexFormat.of().formatHex(sha));
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot load script " + name, e);
    }
  }

  /**
   * Runs the script. The command timeout starts once a pooled connection is in hand, so waiting for the pool or a
   * fresh connection (a burst right after start) is not counted as Redis being slow; getting the connection has its
   * own, longer bound ({@link #acquireMillis}). The reply (including a NOSCRIPT reload) is judged by
   * {@link RedisFailure#within}: a late timer of our own is not Redis's timeout.
   */
  public Future<Response> run(Redis redis, List<String> keys, List<String> args, long timeoutMillis) {
    Context context = Vertx.currentContext();
    Future<RedisConnection> connection = context == null
        ? redis.connect().timeout(acquireMillis(timeoutMillis), TimeUnit.MILLISECONDS)
        : RedisFailure.within(context.owner(), redis.connect(), acquireMillis(timeoutMillis));
    return run(context == null ? null : context.owner(), connection, keys, args, timeoutMillis);
  }

  /** As {@link #run(Redis, List, List, long)} for callers off an event loop: timers (and judgement) on {@code vertx}. */
  public Future<Response> run(Vertx vertx, Redis redis, List<String> keys, List<String> args, long timeoutMillis) {
    return run(vertx, RedisFailure.within(vertx, redis.connect(), acquireMillis(timeoutMillis)), keys, args, timeoutMillis);
  }

  private Future<Response> run(Vertx vertx, Future<RedisConnection> connecting, List<String> keys, List<String> args,
                               long timeoutMillis) {
    return connecting.recover(failure -> Future.failedFuture(new RedisFailure.NotSent(failure)))
        .compose(connection -> {
          Future<Response> reply = send(connection, keys, args, true);
          return (vertx == null ? RedisFailure.within(reply, timeoutMillis) : RedisFailure.within(vertx, reply, timeoutMillis))
              .eventually(connection::close);
        });
  }

  /** How long getting a pooled connection may take: a fresh connect on a busy machine, not a queue behind a stall. */
  public static long acquireMillis(long timeoutMillis) {
    return Math.max(2_000, timeoutMillis * 2);
  }

  private Future<Response> send(RedisConnection redis, List<String> keys, List<String> args, boolean bySha) {
    Request request = Request.cmd(bySha ? Command.EVALSHA : Command.EVAL).arg(bySha ? sha : text).arg(keys.size());
    keys.forEach(request::arg);
    args.forEach(request::arg);
    return redis.send(request).recover(failure -> {
      if (bySha && String.valueOf(failure.getMessage()).startsWith("NOSCRIPT")) return send(redis, keys, args, false);
      return Future.failedFuture(failure);
    });
  }

  /** Whether a failure means the keys hold garbage (wrong type, non-numeric fields) rather than Redis being away. */
  public static boolean isCorruption(Throwable failure) {
    String message = String.valueOf(failure.getMessage());
    return message.startsWith("SLUICE_CORRUPT") || message.startsWith("WRONGTYPE") || message.contains("attempt to");
  }
}
