package dev.sluice.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A byte count written as {@code 10MiB}, {@code 64KiB}, {@code 8KB} or a plain number of bytes. */
public record ByteSize(long bytes) {
  private static final Pattern FORM = Pattern.compile("(\\d+)\\s*(b|kb|kib|mb|mib|gb|gib)?");

  public ByteSize {
    if (bytes < 0) throw new IllegalArgumentException("negative size");
  }

  public static ByteSize parse(String text) {
    Matcher m = FORM.matcher(text == null ? "" : text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) throw new IllegalArgumentException("not a size: " + text);
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2);
    long factor = switch (unit) {
      case "kb" -> 1000L;
      case "kib" -> 1024L;
      case "mb" -> 1000_000L;
      case "mib" -> 1024L * 1024;
      case "gb" -> 1000_000_000L;
      case "gib" -> 1024L * 1024 * 1024;
      default -> 1L;
    };
    return new ByteSize(Math.multiplyExact(n, factor));
  }

  public static ByteSize ofMiB(long n) {
    return new ByteSize(n * 1024 * 1024);
  }

  @Override
  public String toString() {
    return bytes + "B";
  }
}
