package dev.sluice.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;

/** Each parser limit is reported as itself: a long number is not "nesting too deep". */
class StrictJsonTest {
  @Test
  void aThousandDigitNumberIsReportedAsATooLongNumber() {
    JsonProblem problem = catchThrowableOfType(JsonProblem.class,
        () -> StrictJson.parseObject("{\"max_tokens\":" + "9".repeat(1001) + "}"));
    assertThat(problem.getMessage()).contains("number").contains("too long").doesNotContain("nesting");
  }

  @Test
  void deepNestingIsStillReportedAsNesting() {
    JsonProblem problem = catchThrowableOfType(JsonProblem.class,
        () -> StrictJson.parseObject("{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}"));
    assertThat(problem.getMessage()).contains("deeper than 64 levels");
  }
}
