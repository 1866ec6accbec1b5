package dev.sluice.http;

import dev.sluice.config.TenantConfig;
import dev.sluice.routing.DeploymentHealth;
import dev.sluice.usage.SpendLedger;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.function.Supplier;

/**
 * The admin listener's routes (bound to loopback by default, its own bearer token compared in constant time):
 * {@code GET /admin/tenants/{id}/spend} and {@code GET /admin/breakers}. Errors use the same OpenAI envelope as the client API.
 */
public final class AdminRouter {
  private final Vertx vertx;
  private final Supplier<GatewayState> state;
  private final SpendLedger ledger;
  private final Clock clock;
  private final DeploymentHealth health;

  public AdminRouter(Vertx vertx, Supplier<GatewayState> state, SpendLedger ledger, Clock clock, DeploymentHealth health) {
    this.vertx = vertx;
    this.state = state;
    this.ledger = ledger;
    this.clock = clock;
    this.health = health;
  }

  public Router router() {
    Router router = Router.router(vertx);
    router.route("/admin/*").handler(this::authorize);
    router.get("/admin/tenants/:id/spend").handler(this::spend);
    router.get("/admin/breakers").handler(this::breakers);
    router.route().failureHandler(ctx -> ErrorResponder.write(ctx.response(), ErrorResponder.toApiError(ctx.failure())));
    router.errorHandler(404, ctx -> ErrorResponder.write(ctx.response(), new ApiError(404, "invalid_request_error",
        "unknown_url", null, "Unknown admin URL.", -1, false)));
    return router;
  }

  private void authorize(RoutingContext ctx) {
    String token = state.get().config().server().adminToken();
    String presented = ApiRouter.presentedKey(ctx.request());
    if (token.isEmpty() || presented == null || !MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8),
        presented.getBytes(StandardCharsets.UTF_8))) {
      ErrorResponder.write(ctx.response(), new ApiError(401, "invalid_request_error", "invalid_admin_token", null,
          "Missing or incorrect admin token.", -1, false));
      return;
    }
    ctx.next();
  }

  private void spend(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    TenantConfig tenant = state.get().tenantsById().get(id);
    if (tenant == null) {
      ErrorResponder.write(ctx.response(), new ApiError(404, "invalid_request_error", "tenant_not_found", null,
          "No such tenant.", -1, false));
      return;
    }
    LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    ledger.spend(id, today).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      SpendLedger.Spend s = ar.result();
      JsonObject body = new JsonObject().put("tenant", id).put("day", today.toString()).put("day_usd", s.dayUsd())
          .put("month", today.toString().substring(0, 7)).put("month_usd", s.monthUsd())
          .put("daily_budget_usd", tenant.budget().dailyUsd()).put("monthly_budget_usd", tenant.budget().monthlyUsd());
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
    });
  }

  /** Every deployment that has been called: its breaker's state and window, and how long it stays out of rotation. */
  private void breakers(RoutingContext ctx) {
    JsonObject body = new JsonObject();
    health.all().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
        .forEach(e -> body.put(e.getKey(), e.getValue().describe()));
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(new JsonObject().put("deployments", body).toBuffer());
  }
}
