package dev.sluice.http;

import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/** Request ids: a sane client {@code x-request-id} is kept (so traces join up), anything else is replaced. */
final class RequestIds {
  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private RequestIds() {}

  static String accept(String clientValue) {
    return clientValue != null && SANE.matcher(clientValue).matches() ? clientValue : generate();
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
