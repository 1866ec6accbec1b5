package dev.sluice.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.Deployment;
import dev.sluice.config.ResilienceConfig;
import dev.sluice.testing.ManualClock;
import dev.sluice.upstream.UpstreamFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Breaker bookkeeping around Resilience4j: openings noticed on any record, shared openings bounded. */
class DeploymentHealthTest {
  final ManualClock clock = new ManualClock(1_000_000);
  final ResilienceConfig config = new ResilienceConfig(null, null, null, null, null, null, null, 4, 4, 50,
      Duration.ofSeconds(30), 3, null, null);
  final DeploymentHealth health = new DeploymentHealth(config, clock);
  final Deployment primary = new Deployment("p", "m", 1, null, null, null);
  final List<Long> published = new ArrayList<>();
  final UpstreamFailure failure = UpstreamFailure.status(503, null, -1);

  DeploymentHealthTest() {
    health.onOpened((deployment, until) -> published.add(until));
  }

  @Test
  void aWindowThatTipsOverOnASuccessStillStartsTheOpenPeriodAndIsShared() {
    DeploymentHealth.Entry entry = health.of(primary);
    entry.failed(failure);
    entry.failed(failure);
    entry.succeeded();
    assertThat(entry.state()).as("3 calls, below breaker-min-calls").isZero();
    entry.succeeded(); // 4 calls, 2 failed = 50 %: judged on this success
    assertThat(entry.state()).isEqualTo(2);
    assertThat(entry.waitMillis()).isEqualTo(30_000);
    assertThat(published).containsExactly(1_000_000L + 30_000);
  }

  @Test
  void anOpeningFromAnotherReplicaIsNeverLongerThanOurOwnOpenPeriod() {
    health.openedElsewhere("p/m", clock.millis() + 600_000); // a replica whose clock runs 10 minutes fast
    DeploymentHealth.Entry entry = health.of(primary);
    assertThat(entry.state()).isEqualTo(2);
    assertThat(entry.waitMillis()).isEqualTo(30_000);
    assertThat(published).as("not re-published").isEmpty();
    health.openedElsewhere("not-a-deployment", clock.millis() + 1000);
    assertThat(health.all()).containsOnlyKeys("p/m");
  }
}
