package dev.sluice.ratelimit;

import dev.sluice.redis.LuaScript;
import java.util.List;

/**
 * Every Lua script the quota path runs, in one place so start-up can load them ({@code SCRIPT LOAD}) before the
 * replica reports ready. Each validates its arguments and answers a bad one with an error starting
 * {@code SLUICE_BADARG}.
 */
public final class QuotaScripts {
  private QuotaScripts() {}

  /** Request bucket, token bucket, in-flight lease and budget reservation: one admission. */
  public static final LuaScript ADMIT = LuaScript.load(QuotaScripts.class, "admit.lua");
  /** Lease release, token refund, budget settlement and ledger booking: one settlement, once per request id. */
  public static final LuaScript SETTLE = LuaScript.load(QuotaScripts.class, "settle.lua");
  /** Lease renewal for running requests (and removal of expired leases). */
  public static final LuaScript RENEW = LuaScript.load(QuotaScripts.class, "renew.lua");
  /** Replica heartbeat: how many replicas are alive (the fail-open share's divisor). */
  public static final LuaScript REPLICAS = LuaScript.load(QuotaScripts.class, "replicas.lua");

  public static final List<LuaScript> ALL = List.of(ADMIT, SETTLE, RENEW, REPLICAS);
}
