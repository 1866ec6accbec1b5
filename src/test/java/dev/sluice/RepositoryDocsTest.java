package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The repository stands on its own: a license, a README whose first commands work in order, no outside citations. */
class RepositoryDocsTest {
  private static final Pattern OUTSIDE = Pattern.compile("SPEC §|SPEC\\s*§|§\\s*\\d|\\.\\./shared|/work/shared");

  @Test
  void licenseIsTheApacheLicense2() throws IOException {
    String license = Files.readString(Path.of("LICENSE"));
    assertThat(license).contains("Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "END OF TERMS AND CONDITIONS");
  }

  @Test
  void readmeSetsTheDemoKeyBeforeStartingTheServerAndLinksTheUserDocs() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    int export = readme.indexOf("export SLUICE_DEMO_KEY=");
    int run = readme.indexOf("java -jar target/sluice.jar");
    int curl = readme.indexOf("curl ");
    assertThat(export).as("the key is exported").isNotNegative();
    assertThat(export).as("before the server starts").isLessThan(run);
    assertThat(run).as("the server starts before the curl").isLessThan(curl);
    assertThat(readme).contains("./mvnw -B verify", "docs/api.md", "docs/configuration.md", "docs/operations.md", "LICENSE");
    for (String doc : List.of("docs/api.md", "docs/configuration.md", "docs/operations.md", "docs/benchmarks.md")) {
      assertThat(Path.of(doc)).exists();
    }
  }

  @Test
  void docsCodeAndManifestsCiteNothingOutsideTheRepository() throws IOException {
    List<String> hits = new ArrayList<>();
    for (String root : List.of("README.md", "docs", "conf", "k8s", "deploy", "bench", "load-tests", "src/main", "Dockerfile")) {
      Path path = Path.of(root);
      if (!Files.exists(path)) continue;
      try (Stream<Path> files = Files.walk(path)) {
        for (Path file : files.filter(Files::isRegularFile).filter(f -> !f.toString().contains("node_modules")).toList()) {
          List<String> lines;
          try {
            lines = Files.readAllLines(file);
          } catch (java.nio.charset.MalformedInputException binary) {
            continue;
          }
          for (int i = 0; i < lines.size(); i++) {
            if (OUTSIDE.matcher(lines.get(i)).find()) hits.add(file + ":" + (i + 1) + ": " + lines.get(i).trim());
          }
        }
      }
    }
    assertThat(hits).isEmpty();
  }
}
