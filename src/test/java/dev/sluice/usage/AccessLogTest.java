package dev.sluice.usage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The access log never blocks its caller and never loses a line silently: with a blocked sink, lines beyond the
 * queue are counted as dropped, and everything that was queued is written once the sink moves again.
 */
class AccessLogTest {
  @Test
  void linesBeyondTheQueueOfABlockedSinkAreCountedAsDropped() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> written = new CopyOnWriteArrayList<>();
    AccessLog log = new AccessLog(4, line -> {
      entered.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      written.add(line);
    });
    log.write("line-0");
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue(); // the writer holds line-0 in the blocked sink
    for (int i = 1; i <= 10; i++) log.write("line-" + i); // returns at once although the sink is stuck
    assertThat(log.dropped()).isEqualTo(6); // 4 queued, 6 counted

    release.countDown();
    log.close(10_000);
    assertThat(written).containsExactly("line-0", "line-1", "line-2", "line-3", "line-4");
    assertThat(log.dropped()).isEqualTo(6);
  }

  @Test
  void aQueueThatNeverFillsDropsNothingAndWritesInOrder() {
    List<String> written = new CopyOnWriteArrayList<>();
    AccessLog log = new AccessLog(256, written::add);
    for (int i = 0; i < 200; i++) log.write("line-" + i);
    log.close(10_000);
    assertThat(written).hasSize(200).startsWith("line-0").endsWith("line-199");
    assertThat(log.dropped()).isZero();
  }
}
