import dev.sluice.usage.TokenCounter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * Microbenchmark (no JMH) of the prompt-token count Sluice runs on the event loop for every chat request:
 * {@code TokenCounter.shared().countMessages(messages, model)}. Run by bench/run.sh:
 * <pre>
 *   javac -cp target/sluice.jar -d OUT bench/TokenCountBench.java
 *   java -Xms256m -Xmx256m -cp target/sluice.jar:OUT TokenCountBench [warmup-ms] [rounds] [round-ms]
 * </pre>
 * Single thread. For each case: warm-up (default 3 s, so C2 has compiled the encoder), then rounds of fixed length
 * (default 5 × 1 s); prints the median round as one {@code RESULT {json}} line: tokens per request, µs per request,
 * requests/s and tokens/s for one core. Time is the thread's own CPU time (ThreadMXBean), so other processes
 * competing for the cores of a shared machine do not inflate it; wall-clock µs are printed too. A checksum of the
 * counts is printed so the JIT cannot drop the work.
 */
public final class TokenCountBench {
  private static volatile long sink;

  public static void main(String[] args) {
    long warmupMs = args.length > 0 ? Long.parseLong(args[0]) : 3000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    long roundMs = args.length > 2 ? Long.parseLong(args[2]) : 1000;

    JsonArray chat = new JsonArray()
        .add(msg("system", "You are a helpful assistant for Acme Corp's customer support team. Answer concisely and "
            + "politely, cite the relevant help-centre article when you can, and never reveal internal ticket numbers. "
            + "If you are not sure, say so and offer to escalate to a human agent."))
        .add(msg("user", "Hi! I ordered a pair of running shoes last Tuesday (order #A-10422) and the tracking page "
            + "still says 'label created'. Is something wrong with my shipment?"))
        .add(msg("assistant", "Thanks for reaching out! A 'label created' status means the warehouse has packed your "
            + "order but the carrier has not scanned it yet. This usually updates within 2-3 business days. I can see "
            + "your order left our warehouse on Thursday, so the first carrier scan should appear soon."))
        .add(msg("user", "OK, but I need them before my race on Saturday. Can I upgrade to express shipping now, and "
            + "how much would that cost?"))
        .add(msg("assistant", "Unfortunately, once a parcel has left the warehouse we cannot change its shipping "
            + "method. If it does not arrive in time, you can return it for free within 30 days."))
        .add(msg("user", "That's disappointing. Could you at least tell me which carrier it is and give me their "
            + "phone number, so I can ask them directly? Also, do you price-match if I buy them in a store?"));
    JsonArray bench = new JsonArray().add(msg("user",
        "Please answer with a short friendly greeting for the benchmark run today."));

    StringBuilder out = new StringBuilder();
    run(out, "chat-6-messages", "gpt-4o", chat, warmupMs, rounds, roundMs);       // o200k_base
    run(out, "chat-6-messages", "gpt-4", chat, warmupMs / 2, rounds, roundMs);    // cl100k_base
    run(out, "bench-1-message", "mock", bench, warmupMs / 2, rounds, roundMs);    // the wrk body (o200k_base)
    System.out.print(out);
    System.out.println("checksum " + sink);
  }

  private static JsonObject msg(String role, String content) {
    return new JsonObject().put("role", role).put("content", content);
  }

  private static void run(StringBuilder out, String name, String model, JsonArray messages, long warmupMs, int rounds,
                          long roundMs) {
    TokenCounter counter = TokenCounter.shared();
    int tokens = counter.countMessages(messages, model);
    loop(counter, messages, model, warmupMs);
    double[] cpuNs = new double[rounds];
    double[] wallNs = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long[] res = loop(counter, messages, model, roundMs);
      cpuNs[r] = (double) res[2] / res[0];
      wallNs[r] = (double) res[1] / res[0];
    }
    Arrays.sort(cpuNs);
    Arrays.sort(wallNs);
    double ns = cpuNs[(rounds - 1) / 2];
    out.append(String.format(java.util.Locale.ROOT,
        "RESULT {\"case\":\"%s\",\"model\":\"%s\",\"messages\":%d,\"chars\":%d,\"tokens\":%d,\"us_per_request\":%.3f,"
            + "\"requests_per_s\":%.0f,\"tokens_per_s\":%.0f,\"us_min\":%.3f,\"us_max\":%.3f,\"wall_us_per_request\":%.3f}%n",
        name, model, messages.size(), messages.encode().length(), tokens, ns / 1000, 1e9 / ns, tokens * 1e9 / ns,
        cpuNs[0] / 1000, cpuNs[rounds - 1] / 1000, wallNs[(rounds - 1) / 2] / 1000));
  }

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** Calls countMessages for about {@code millis} of wall time; returns {calls, elapsed wall ns, thread CPU ns}. */
  private static long[] loop(TokenCounter counter, JsonArray messages, String model, long millis) {
    long end = System.nanoTime() + millis * 1_000_000;
    long cpu0 = THREADS.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    long calls = 0;
    long acc = 0;
    long now;
    do {
      for (int i = 0; i < 64; i++) acc += counter.countMessages(messages, model);
      calls += 64;
      now = System.nanoTime();
    } while (now < end);
    long cpu = THREADS.getCurrentThreadCpuTime() - cpu0;
    sink += acc;
    return new long[] {calls, now - start, cpu};
  }
}
