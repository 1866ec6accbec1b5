import dev.sluice.config.Deployment;
import dev.sluice.config.ResilienceConfig;
import dev.sluice.routing.AttemptLoop;
import dev.sluice.routing.Delivery;
import dev.sluice.routing.DeploymentHealth;
import dev.sluice.routing.Route;
import dev.sluice.upstream.Cancellation;
import dev.sluice.upstream.Provider;
import dev.sluice.upstream.UpstreamReply;
import dev.sluice.upstream.UpstreamRequest;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Microbenchmark (no JMH) of what the attempt loop and the circuit breakers add to a request on the happy path, and
 * of the refusal when every breaker is open. Run by bench/routing.sh:
 * <pre>
 *   javac -cp target/sluice.jar -d OUT bench/AttemptLoopBench.java
 *   java -Xms256m -Xmx256m -cp target/sluice.jar:OUT AttemptLoopBench [warmup-ms] [rounds] [round-ms]
 * </pre>
 * The provider answers at once with a prepared future, so only the loop's own work is timed (calling the provider
 * directly costs nothing measurable: the JIT folds it away, so it is no baseline; bench/routing.sh relates these
 * figures to the gateway's whole CPU per request measured in the same run instead). Cases:
 * {@code loop-1} (AttemptLoop over one deployment: breaker permission, success record, Delivery),
 * {@code loop-3-weighted} (three deployments, two of one priority with weights: the weighted choice),
 * {@code all-open} (two deployments, both breakers open: the fast 503 decision, no provider call).
 * Single thread; time is the thread's CPU time (ThreadMXBean); median of the rounds. Prints one
 * {@code RESULT {json}} line per case with ns per request.
 */
public final class AttemptLoopBench {
  private static volatile long sink;

  public static void main(String[] args) {
    long warmupMs = args.length > 0 ? Long.parseLong(args[0]) : 3000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    long roundMs = args.length > 2 ? Long.parseLong(args[2]) : 1000;
    Vertx vertx = Vertx.vertx();
    try {
      UpstreamReply reply = new UpstreamReply.Json(200, MultiMap.caseInsensitiveMultiMap(), Buffer.buffer("{}"),
          new JsonObject());
      Provider provider = new Provider() {
        @Override
        public Future<UpstreamReply> send(UpstreamRequest request) {
          return Future.succeededFuture(reply);
        }

        @Override
        public Future<Void> close() {
          return Future.succeededFuture();
        }
      };
      UpstreamRequest request = new UpstreamRequest(null, "m", new JsonObject(), false,
          MultiMap.caseInsensitiveMultiMap(), new Cancellation());
      Function<String, Provider> providers = name -> provider;
      Function<Deployment, UpstreamRequest> requestFor = d -> request;
      ResilienceConfig config = ResilienceConfig.DEFAULTS;
      DeploymentHealth health = new DeploymentHealth(config, Clock.systemUTC());
      AttemptLoop loop = new AttemptLoop(vertx, health, new AtomicInteger(), () -> 1, System::currentTimeMillis);

      Route one = new Route("one", null, List.of(deployment("a", 1, null)));
      Route weighted = new Route("chain", null,
          List.of(deployment("a", 3, 0), deployment("b", 1, 0), deployment("c", 1, 1)));
      Route open = new Route("dead", null, List.of(deployment("x", 1, null), deployment("y", 1, null)));
      tripBreakers(loop, open, config, vertx);

      long[] count = new long[1];
      Runnable loopOne = () -> loop.execute(one, providers, requestFor, request.cancellation()).onComplete(ar -> count[0]++);
      Runnable loopWeighted = () -> loop.execute(weighted, providers, requestFor, request.cancellation())
          .onComplete(ar -> count[0]++);
      Runnable allOpen = () -> loop.execute(open, providers, requestFor, request.cancellation()).onComplete(ar -> {
        if (ar.succeeded()) throw new IllegalStateException("an open breaker let a call through");
        count[0]++;
      });

      run("loop-1", loopOne, warmupMs, rounds, roundMs);
      run("loop-3-weighted", loopWeighted, warmupMs, rounds, roundMs);
      run("all-open", allOpen, warmupMs, rounds, roundMs);
      sink = count[0];
    } finally {
      vertx.close();
    }
  }

  private static Deployment deployment(String provider, int weight, Integer priority) {
    return new Deployment(provider, "m-" + provider, weight, priority, null, null);
  }

  /** Fails every deployment of {@code route} until their breakers open (enough calls to pass breaker-min-calls). */
  private static void tripBreakers(AttemptLoop loop, Route route, ResilienceConfig config, Vertx vertx) {
    Provider failing = new Provider() {
      @Override
      public Future<UpstreamReply> send(UpstreamRequest request) {
        return Future.failedFuture(dev.sluice.upstream.UpstreamFailure.status(503, null, -1));
      }

      @Override
      public Future<Void> close() {
        return Future.succeededFuture();
      }
    };
    UpstreamRequest request = new UpstreamRequest(null, "m", new JsonObject(), false,
        MultiMap.caseInsensitiveMultiMap(), new Cancellation());
    // attempts after the first are retries on timers; only first attempts are counted here, which is enough
    for (int i = 0; i < config.breakerWindow() * 4; i++) loop.execute(route, n -> failing, d -> request, new Cancellation());
    Future<Delivery> probe = loop.execute(route, n -> failing, d -> request, new Cancellation());
    if (!probe.failed() || !probe.cause().getMessage().startsWith("UNAVAILABLE")) {
      throw new IllegalStateException("breakers did not open: " + probe.cause());
    }
  }

  private static void run(String name, Runnable op, long warmupMs, int rounds, long roundMs) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long warmEnd = System.nanoTime() + warmupMs * 1_000_000;
    while (System.nanoTime() < warmEnd) {
      for (int i = 0; i < 10_000; i++) op.run();
    }
    double[] nsPerOp = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long ops = 0;
      long cpu0 = threads.getCurrentThreadCpuTime();
      long end = System.nanoTime() + roundMs * 1_000_000;
      while (System.nanoTime() < end) {
        for (int i = 0; i < 10_000; i++) op.run();
        ops += 10_000;
      }
      nsPerOp[r] = (threads.getCurrentThreadCpuTime() - cpu0) / (double) ops;
    }
    Arrays.sort(nsPerOp);
    System.out.printf(java.util.Locale.ROOT, "RESULT {\"case\":\"%s\",\"ns_per_request\":%.1f,\"min_ns\":%.1f,"
        + "\"max_ns\":%.1f}%n", name, nsPerOp[rounds / 2], nsPerOp[0], nsPerOp[rounds - 1]);
  }
}
