package dev.sluice.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A blocking HTTP/1.1 client over a plain {@link Socket}, for tests that must control the connection: read a few SSE
 * events, then close the socket mid-stream, or stop reading to apply backpressure. Every read has a socket timeout,
 * so a missing byte fails the test instead of hanging it. JUnit thread only.
 */
public final class RawClient implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
  private int status = -1;
  private InputStream body;

  private RawClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
  }

  /** Opens a connection and sends {@code POST path} with a JSON body and the tenant key; reads nothing yet. */
  public static RawClient post(int port, String path, String key, String json) throws IOException {
    return post(port, path, key, json, -1);
  }

  /** As {@link #post(int, String, String, String)}, with a small receive buffer (-1 = OS default). */
  public static RawClient post(int port, String path, String key, String json, int receiveBuffer) throws IOException {
    Socket socket = new Socket();
    if (receiveBuffer > 0) socket.setReceiveBufferSize(receiveBuffer);
    socket.setSoTimeout(20_000); // only catches a hang; generous so a loaded machine is not taken for one
    socket.connect(new InetSocketAddress("127.0.0.1", port), 20_000);
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    String head = "POST " + path + " HTTP/1.1\r\n"
        + "Host: 127.0.0.1:" + port + "\r\n"
        + "Authorization: Bearer " + key + "\r\n"
        + "Content-Type: application/json\r\n"
        + "Content-Length: " + bytes.length + "\r\n"
        + "Connection: close\r\n\r\n";
    OutputStream out = socket.getOutputStream();
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
    return new RawClient(socket);
  }

  /** Sets how long any single read may block before it fails with a timeout. */
  public RawClient readTimeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
    return this;
  }

  /** The response status, reading the head if not read yet. */
  public int status() throws IOException {
    readHead();
    return status;
  }

  public String header(String name) throws IOException {
    readHead();
    return headers.get(name);
  }

  /**
   * The next SSE event as its lines joined by {@code \n} (e.g. {@code data: {...}} or {@code : ping}), or
   * {@code null} at the end of the body.
   */
  public String nextEvent() throws IOException {
    readHead();
    StringBuilder event = new StringBuilder();
    while (true) {
      String line = readLine(body);
      if (line == null) return event.length() == 0 ? null : event.toString();
      if (line.isEmpty()) {
        if (event.length() > 0) return event.toString();
        continue;
      }
      if (event.length() > 0) event.append('\n');
      event.append(line);
    }
  }

  /** Every remaining event up to the end of the body. */
  public List<String> remainingEvents() throws IOException {
    List<String> events = new ArrayList<>();
    for (String e = nextEvent(); e != null; e = nextEvent()) events.add(e);
    return events;
  }

  /**
   * Whether a chunked body read to its end closed with the final zero-length chunk, i.e. the server declared the
   * response complete; {@code false} when the connection closed mid-body.
   */
  public boolean endedWithLastChunk() {
    return body instanceof Chunked chunked && chunked.eof && chunked.lastChunk;
  }

  /** The rest of the body as text. */
  public String remainingBody() throws IOException {
    readHead();
    return new String(body.readAllBytes(), StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private void readHead() throws IOException {
    if (status >= 0) return;
    String statusLine = readLine(in);
    if (statusLine == null) throw new IOException("connection closed before the status line");
    status = Integer.parseInt(statusLine.split(" ")[1]);
    for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
      int colon = line.indexOf(':');
      headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = new Chunked(in);
    } else if (headers.containsKey("content-length")) {
      body = new Limited(in, Long.parseLong(headers.get("content-length")));
    } else {
      body = in;
    }
  }

  /** A line without its {@code \n} or {@code \r\n}, or null at end of stream. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') break;
      line.write(b);
    }
    if (b == -1 && line.size() == 0) return null;
    byte[] bytes = line.toByteArray();
    int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }

  /** Decodes chunked transfer coding; ends at the zero chunk (or when the peer closes). */
  private static final class Chunked extends InputStream {
    private final InputStream raw;
    private long remaining;
    private boolean afterChunk;
    private boolean eof;
    /** Whether the body ended with the zero-length chunk (a complete response), not with the peer closing. */
    private boolean lastChunk;

    Chunked(InputStream raw) {
      this.raw = raw;
    }

    @Override
    public int read() throws IOException {
      if (eof) return -1;
      if (remaining == 0) {
        if (afterChunk) readLine(raw); // the CRLF after each chunk's data
        String size = readLine(raw);
        if (size == null) {
          eof = true;
          return -1;
        }
        int semi = size.indexOf(';');
        remaining = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
        afterChunk = true;
        if (remaining == 0) {
          eof = true;
          lastChunk = true;
          return -1;
        }
      }
      int b = raw.read();
      if (b == -1) {
        eof = true;
        return -1;
      }
      remaining--;
      return b;
    }
  }

  private static final class Limited extends InputStream {
    private final InputStream raw;
    private long remaining;

    Limited(InputStream raw, long length) {
      this.raw = raw;
      this.remaining = length;
    }

    @Override
    public int read() throws IOException {
      if (remaining <= 0) return -1;
      int b = raw.read();
      if (b != -1) remaining--;
      return b;
    }
  }
}
