package dev.sluice.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.stream.Stream;

/** A plain blocking HTTP client for tests (runs on the JUnit thread, never on an event loop). */
public final class Http {
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private Http() {}

  public static HttpResponse<String> post(String url, String key, String json) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
    if (key != null) request.header("authorization", "Bearer " + key);
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  public static HttpResponse<String> get(String url, String key) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET();
    if (key != null) request.header("authorization", "Bearer " + key);
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Posts and returns the response with its body as lines, read lazily (for streams). */
  public static HttpResponse<Stream<String>> postStreaming(String url, String key, String json) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .header("content-type", "application/json").header("authorization", "Bearer " + key)
        .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    return CLIENT.send(request, HttpResponse.BodyHandlers.ofLines());
  }
}
