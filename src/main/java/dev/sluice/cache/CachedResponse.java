package dev.sluice.cache;

import io.vertx.core.json.JsonObject;

/**
 * A stored answer and the envelope that proves it belongs here: key version, tenant, endpoint, alias, creation time
 * and a checksum of the body. A read that fails any check is a miss and the entry is deleted.
 */
public record CachedResponse(String tenant, String endpoint, String alias, long createdMillis, JsonObject body) {

  public JsonObject toEnvelope() {
    return new JsonObject().put("v", CacheKey.VERSION).put("tenant", tenant).put("endpoint", endpoint).put("alias", alias)
        .put("created", createdMillis).put("sha", checksum(body)).put("body", body);
  }

  /** @return the response, or {@code null} when the envelope is foreign, stale in version, or corrupt */
  public static CachedResponse fromEnvelope(JsonObject envelope, String tenant, String endpoint, String alias) {
    if (envelope == null || !(envelope.getValue("v") instanceof Number v) || v.intValue() != CacheKey.VERSION) return null;
    if (!tenant.equals(envelope.getValue("tenant")) || !endpoint.equals(envelope.getValue("endpoint"))
        || !alias.equals(envelope.getValue("alias"))) {
      return null;
    }
    if (!(envelope.getValue("body") instanceof JsonObject body) || !(envelope.getValue("created") instanceof Number created)) return null;
    if (!checksum(body).equals(envelope.getValue("sha"))) return null;
    return new CachedResponse(tenant, endpoint, alias, created.longValue(), body);
  }

  static String checksum(JsonObject body) {
    return CacheKey.sha256(CacheKey.canonical(body));
  }
}
