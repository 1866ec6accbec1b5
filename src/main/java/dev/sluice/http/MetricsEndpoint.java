package dev.sluice.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * {@code GET /metrics} in the Prometheus text format. The scrape names tenants, their spend and budgets, so it is served
 * on its own listener (loopback by default, {@code server.metrics}) rather than on the public client port; any other
 * path there is a 404 envelope.
 */
public final class MetricsEndpoint {
  private MetricsEndpoint() {}

  /** The whole request handler of the metrics listener. */
  public static Handler<HttpServerRequest> listener(MeterRegistry registry) {
    return request -> {
      if (request.method() == HttpMethod.GET && "/metrics".equals(request.path())) {
        scrape(registry, request.response());
      } else {
        ErrorResponder.write(request.response(), new ApiError(404, "invalid_request_error", "unknown_url", null,
            "Unknown URL: the metrics listener serves GET /metrics only.", -1, false));
      }
    };
  }

  static void scrape(MeterRegistry registry, HttpServerResponse response) {
    String body = registry instanceof PrometheusMeterRegistry prometheus ? prometheus.scrape() : "";
    response.putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(body);
  }
}
