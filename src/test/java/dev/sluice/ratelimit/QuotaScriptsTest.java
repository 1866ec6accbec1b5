package dev.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.redis.LuaScript;
import dev.sluice.redis.RedisFailure;
import dev.sluice.testing.SharedRedis;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The quota scripts called directly with hostile arguments against a real redis-server: every one is refused with
 * an error reply starting {@code SLUICE_BADARG} (our bug, never counted as Redis unavailability) and writes nothing.
 */
class QuotaScriptsTest {
  @RegisterExtension
  static final SharedRedis redis = new SharedRedis();
  static final List<String> HOSTILE = List.of("nan", "NaN", "inf", "-inf", "1e309", "9007199254740993", "1e300",
      "-1", "1.5", "abc", "", "0x1p1000");
  static final String ACCOUNT = "sluice:acct:{t:a}:2026-12";

  static List<String> admitArgs() {
    return new ArrayList<>(List.of("20", "1000", "100", "2", "req-1", "60000", "20", "1000", "", "4", "1000000000", "-1",
        "5000", "3456000", "0", "0", "0", "0"));
  }

  static List<String> settleArgs() {
    return new ArrayList<>(List.of("req-1", "u", "50", "", "4", "5000", "3000", "1", "900", "3456000"));
  }

  static String eval(LuaScript script, List<String> keys, List<String> args) throws Exception {
    List<String> command = new ArrayList<>(List.of("EVAL", script.text(), Integer.toString(keys.size())));
    command.addAll(keys);
    command.addAll(args);
    return redis.command(command.toArray(String[]::new));
  }

  @Test
  void admissionRefusesEveryHostileNumberAndWritesNothing() throws Exception {
    List<String> keys = List.of(ACCOUNT, "sluice:acct:{t:a}:2026-11", "sluice:rl:{t:a}:inflight");
    // numeric arguments only (5 is the request id, 9 the scope suffix)
    for (int i = 0; i < 18; i++) {
      if (i == 4 || i == 8) continue;
      for (String bad : HOSTILE) {
        if (i == 10 || i == 11) { if (bad.equals("-1")) continue; } // -1 = no cap, valid
        List<String> args = admitArgs();
        args.set(i, bad);
        String reply = eval(QuotaScripts.ADMIT, keys, args);
        assertThat(reply).as("ARGV[" + (i + 1) + "] = " + bad).startsWith("-SLUICE_BADARG");
      }
    }
    assertThat(redis.command("EXISTS", ACCOUNT)).contains(":0");
    assertThat(redis.command("EXISTS", "sluice:rl:{t:a}:inflight")).contains(":0");
    assertThat(eval(QuotaScripts.ADMIT, keys, admitArgs())).as("valid arguments pass").startsWith("*10");
  }

  @Test
  void settlementRefusesEveryHostileNumberAndWritesNothing() throws Exception {
    List<String> keys = List.of(ACCOUNT, "sluice:rl:{t:a}:inflight", "sluice:acct:{t:a}:done:req-1");
    for (int i : new int[] {2, 4, 5, 6, 7, 8, 9}) {
      for (String bad : HOSTILE) {
        if (i == 2 && bad.equals("-1")) continue; // a negative token delta charges more: valid
        List<String> args = settleArgs();
        args.set(i, bad);
        assertThat(eval(QuotaScripts.SETTLE, keys, args)).as("ARGV[" + (i + 1) + "] = " + bad).startsWith("-SLUICE_BADARG");
      }
    }
    List<String> badMode = settleArgs();
    badMode.set(1, "x");
    assertThat(eval(QuotaScripts.SETTLE, keys, badMode)).startsWith("-SLUICE_BADARG");
    assertThat(redis.command("EXISTS", ACCOUNT)).contains(":0");
    assertThat(redis.command("EXISTS", keys.get(2))).as("no booking marker").contains(":0");
  }

  @Test
  void heartbeatAndRenewalRefuseHostileArguments() throws Exception {
    for (String bad : HOSTILE) {
      assertThat(eval(QuotaScripts.REPLICAS, List.of("sluice:replicas"), List.of("r1", bad))).startsWith("-SLUICE_BADARG");
      assertThat(eval(QuotaScripts.RENEW, List.of("sluice:rl:{t:a}:inflight"), List.of(bad, "req-1"))).startsWith("-SLUICE_BADARG");
    }
  }

  @Test
  void aRefusedArgumentIsNotRedisBeingUnavailable() {
    assertThat(RedisFailure.countsAgainstRedis(new RuntimeException("SLUICE_BADARG ARGV[3] nan script: 1f2e, on @user_script:18.")))
        .isFalse();
  }

  @Test
  void storedSpendStaysExactDigitsBeyondOneHundredThousandDollars() throws Exception {
    List<String> keys = List.of(ACCOUNT, "sluice:rl:{t:a}:inflight", "sluice:acct:{t:a}:done:big");
    List<String> args = settleArgs();
    args.set(0, "big");
    args.set(1, "l");
    args.set(6, "123456789012345678".substring(0, 15)); // 123,456.789 USD in nano-USD
    eval(QuotaScripts.SETTLE, keys, args);
    assertThat(redis.command("HGET", ACCOUNT, "sm")).contains("123456789012345").doesNotContain("e+");
  }
}
