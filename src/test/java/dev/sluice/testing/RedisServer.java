package dev.sluice.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A private {@code redis-server} on a free loopback port (never the machine's 6379), started per test class.
 * Tests may stop, pause or flush it. Readiness is taken from the server's own log line, not from sleeping.
 */
public final class RedisServer implements AutoCloseable {
  private final int port;
  private final java.util.List<String> command;
  private final String readyLine;
  private Process process;

  private RedisServer(int port, java.util.List<String> command, String readyLine) {
    this.port = port;
    this.command = command;
    this.readyLine = readyLine;
  }

  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  public static RedisServer start(String... extraArgs) throws Exception {
    return startOn(freePort(), extraArgs);
  }

  /** On a given port: for a gateway configured before its Redis exists (pick the port with {@link #freePort()}). */
  public static RedisServer startOn(int port, String... extraArgs) throws Exception {
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("redis-server", "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice"));
    command.addAll(java.util.List.of(extraArgs));
    RedisServer server = new RedisServer(port, command, "Ready to accept connections");
    server.launch();
    return server;
  }

  /** A Sentinel on a free port watching {@code master} under the name {@code mymaster}. */
  public static RedisServer sentinel(RedisServer master, java.nio.file.Path dir) throws Exception {
    int port = freePort();
    java.nio.file.Path conf = dir.resolve("sentinel-" + port + ".conf");
    java.nio.file.Files.writeString(conf, "port " + port + "\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 "
        + master.port() + " 1\n");
    RedisServer server = new RedisServer(port, java.util.List.of("redis-server", conf.toString(), "--sentinel"),
        "+monitor master mymaster");
    server.launch();
    return server;
  }

  private void launch() throws Exception {
    process = new ProcessBuilder(command).redirectErrorStream(true).start();
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          if (line.contains(readyLine)) ready.complete(null);
        }
        ready.completeExceptionally(new IllegalStateException("redis-server exited before it was ready"));
      } catch (IOException e) {
        ready.completeExceptionally(e);
      }
    }, "redis-server-log-" + port);
    reader.setDaemon(true);
    reader.start();
    ready.get(20, TimeUnit.SECONDS);
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Sends one command over a fresh connection and returns the raw RESP reply (first line and payload). */
  public String command(String... args) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      StringBuilder resp = new StringBuilder("*").append(args.length).append("\r\n");
      for (String arg : args) {
        byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
        resp.append('$').append(bytes.length).append("\r\n").append(arg).append("\r\n");
      }
      out.write(resp.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[8192];
      int n = in.read(buffer);
      return n <= 0 ? "" : new String(buffer, 0, n, StandardCharsets.UTF_8);
    }
  }

  public void flushAll() throws IOException {
    command("FLUSHALL");
  }

  /** Stops the server (for outage tests); {@link #restart()} brings it back on the same port, empty. */
  public void stop() throws Exception {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
  }

  public void restart() throws Exception {
    stop();
    launch();
  }

  /** SIGSTOP: the process freezes with its connections open (a stall), until {@link #resume()}. */
  public void pause() throws Exception {
    signal("-STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  public void resume() throws Exception {
    signal("-CONT");
  }

  /** SIGKILL (kill -9): nothing saved; {@link #restart()} brings it back on the same port, empty. */
  public void kill() throws Exception {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }

  private void signal(String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) throw new IllegalStateException("kill " + signal + " failed");
  }

  @Override
  public void close() throws Exception {
    stop();
  }
}
