package dev.sluice.http;

import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Request ids. The gateway always makes its own: that id keys the in-flight lease, the spend ledger's once-only
 * booking and settlement, so a client must never be able to choose or repeat it. A client's own id (from
 * {@code x-client-request-id}, else {@code x-request-id}) is only carried along when it is sane: echoed as
 * {@code x-client-request-id} and logged as {@code client_request_id}, so traces still join up.
 */
final class RequestIds {
  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private RequestIds() {}

  /** The client's id if it is sane (1–128 of {@code A-Za-z0-9._:-}), else null: never used as a key. */
  static String client(String clientValue) {
    return clientValue != null && SANE.matcher(clientValue).matches() ? clientValue : null;
  }

  static String generate() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    char[] out = new char[28];
    out[0] = 'r';
    out[1] = 'e';
    out[2] = 'q';
    out[3] = '_';
    long a = random.nextLong();
    long b = random.nextLong();
    for (int i = 0; i < 12; i++) {
      out[4 + i] = HEX[(int) (a >>> (i * 4)) & 0xf];
      out[16 + i] = HEX[(int) (b >>> (i * 4)) & 0xf];
    }
    return new String(out);
  }
}
