package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ConfigLoader#parse}: {@code ${ENV}} substitution and validation. Every problem reads
 * {@code path.to.field: problem (expected: …)} with the exact path, and no message repeats a secret.
 */
class ConfigLoaderTest {
  static final String PROVIDER_KEY = "sk-provider-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
  static final String DIGEST_HEX = "3b1f0c9d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";
  static final String DIGEST = "hmac-sha256:" + DIGEST_HEX;
  static final String OTHER_DIGEST = "hmac-sha256:" + "0123456789abcdef".repeat(4);

  static final String PROVIDER = "  fake: { type: openai-compatible, base-url: http://127.0.0.1:9/v1, api-key: \"" + PROVIDER_KEY + "\" }\n";
  static final String MODELS = "  gpt-4o-mini: { deployments: [ { provider: fake, model: upstream-mini } ] }\n";
  static final String ACME = "  - id: acme\n    keys: [ { id: acme-1, digest: \"" + DIGEST + "\" } ]\n";
  static final String BETA = "  - id: beta\n    keys: [ { id: beta-1, digest: \"" + OTHER_DIGEST + "\" } ]\n";

  static String yaml(String providers, String models, String tenants) {
    return "providers:\n" + providers + "models:\n" + models + "tenants:\n" + tenants;
  }

  static List<String> problems(String yaml) {
    return problems(yaml, Map.of());
  }

  static List<String> problems(String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, env));
    assertThat(e).as("expected the config to be rejected").isNotNull();
    return e.problems();
  }

  @Test
  void validConfigParses() {
    SluiceConfig config = ConfigLoader.parse(yaml(PROVIDER, MODELS, ACME + BETA), Map.of());
    assertThat(config.tenants()).extracting(TenantConfig::id).containsExactly("acme", "beta");
    assertThat(config.providers().get("fake").apiKey()).isEqualTo(PROVIDER_KEY);
  }

  @Test
  void envReferencesAreReplacedByTheirValues() {
    String providers = "  fake: { type: openai-compatible, base-url: \"http://${UPSTREAM_HOST}:${UPSTREAM_PORT}/v1\", api-key: \"${FAKE_KEY}\" }\n";
    SluiceConfig config = ConfigLoader.parse(yaml(providers, MODELS, ACME),
        Map.of("UPSTREAM_HOST", "127.0.0.1", "UPSTREAM_PORT", "8000", "FAKE_KEY", PROVIDER_KEY));
    assertThat(config.providers().get("fake").baseUrl()).isEqualTo("http://127.0.0.1:8000/v1");
    assertThat(config.providers().get("fake").apiKey()).isEqualTo(PROVIDER_KEY);
  }

  @Test
  void envDefaultIsUsedWhenTheVariableIsUnsetOrEmpty() {
    String yaml = yaml(PROVIDER, MODELS, ACME) + "server: { shutdown-grace: \"${GRACE:-7s}\", admin-token: \"${ADMIN:-}\" }\n";
    assertThat(ConfigLoader.parse(yaml, Map.of()).server().shutdownGrace()).isEqualTo(Duration.ofSeconds(7));
    assertThat(ConfigLoader.parse(yaml, Map.of("GRACE", "")).server().shutdownGrace()).isEqualTo(Duration.ofSeconds(7));
    assertThat(ConfigLoader.parse(yaml, Map.of("GRACE", "45s")).server().shutdownGrace()).isEqualTo(Duration.ofSeconds(45));
    assertThat(ConfigLoader.parse(yaml, Map.of()).server().adminToken()).isEmpty();
  }

  @Test
  void envValuesCannotChangeTheDocumentStructure() {
    String yaml = yaml(PROVIDER, MODELS, ACME) + "server: { admin-token: \"${ADMIN}\" }\n";
    SluiceConfig config = ConfigLoader.parse(yaml, Map.of("ADMIN", "x\nserver: { port: 1 }"));
    assertThat(config.server().adminToken()).isEqualTo("x\nserver: { port: 1 }");
    assertThat(config.server().port()).isEqualTo(8080);
  }

  @Test
  void unsetVariableIsAnErrorNamingThePathAndTheVariable() {
    String providers = "  openai: { type: openai, api-key: \"${OPENAI_API_KEY}\" }\n";
    assertThat(problems(yaml(providers, "  gpt-4o-mini: { deployments: [ { provider: openai, model: m } ] }\n", ACME)))
        .containsExactly("providers.openai.api-key: environment variable OPENAI_API_KEY is not set"
            + " (expected: set it, or write ${OPENAI_API_KEY:-default})");
  }

  @Test
  void everyUnsetVariableIsReported() {
    String providers = "  fake: { type: openai-compatible, base-url: \"${BASE}\", api-key: \"${KEY}\" }\n";
    assertThat(problems(yaml(providers, MODELS, ACME))).hasSize(2)
        .anySatisfy(p -> assertThat(p).startsWith("providers.fake.base-url: environment variable BASE is not set"))
        .anySatisfy(p -> assertThat(p).startsWith("providers.fake.api-key: environment variable KEY is not set"));
  }

  @Test
  void unknownKeyNamesItsExactPathAndTheNearestKey() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME + "    limitz: { requests-per-minute: 5 }\n")))
        .containsExactly("tenants[0].limitz: unknown key (did you mean 'limits'?)");
  }

  @Test
  void unknownKeyInANestedMapNamesItsExactPath() {
    String providers = "  fake: { type: openai-compatible, base-url: http://127.0.0.1:9/v1, timeouts: { frist-token: 1s } }\n";
    assertThat(problems(yaml(providers, MODELS, ACME)))
        .containsExactly("providers.fake.timeouts.frist-token: unknown key (did you mean 'first-token'?)");
  }

  @Test
  void unknownSectionIsRejected() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME) + "servr: { port: 1 }\n"))
        .containsExactly("servr: unknown key (did you mean 'server'?)");
  }

  @Test
  void unknownKeyFarFromEveryKnownOneListsTheKnownKeys() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME) + "server: { colour: blue }\n")).singleElement().asString()
        .startsWith("server.colour: unknown key (expected: one of [port, host, admin-port,");
  }

  @Test
  void misspeltRequiredDeploymentsIsAnUnknownKeyNotAnEmptyList() {
    String models = "  chat: { deploymnets: [ { provider: fake, model: m } ] }\n";
    assertThat(problems(yaml(PROVIDER, models, ACME.replace("keys:", "models: [ chat ]\n    keys:"))))
        .containsExactly("models.chat.deploymnets: unknown key (did you mean 'deployments'?)");
  }

  @Test
  void misspeltProvidersSectionIsOneUnknownKeyWithoutFollowUpErrors() {
    String yaml = yaml(PROVIDER, MODELS, ACME).replace("providers:", "provders:");
    assertThat(problems(yaml)).containsExactly("provders: unknown key (did you mean 'providers'?)");
  }

  @Test
  void snakeOrCamelCaseKeysSuggestTheKebabCaseName() {
    String providers = "  fake: { type: openai-compatible, base-url: http://127.0.0.1:9/v1, max_connections: 5, maxWaitQueue: 3 }\n";
    assertThat(problems(yaml(providers, MODELS, ACME))).containsExactly(
        "providers.fake.max_connections: unknown key (did you mean 'max-connections'?)",
        "providers.fake.maxWaitQueue: unknown key (did you mean 'max-wait-queue'?)");
  }

  @Test
  void unknownKeysComeBeforeOtherProblemsOfTheSameFile() {
    String yaml = yaml(PROVIDER, MODELS, ACME + "    limits: { requests-per-minute: -5, max-inflight: 3 }\n");
    assertThat(problems(yaml)).first().asString()
        .isEqualTo("tenants[0].limits.max-inflight: unknown key (did you mean 'max-in-flight'?)");
  }

  @Test
  void freeFormLabelsAcceptAnyKey() {
    SluiceConfig config = ConfigLoader.parse(yaml(PROVIDER, MODELS, ACME + "    labels: { team: search, cost-centre: \"42\" }\n"), Map.of());
    assertThat(config.tenants().get(0).labels()).containsEntry("team", "search").containsEntry("cost-centre", "42");
  }

  @Test
  void negativeLimitNamesTenantIndexAndField() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME + BETA + "    limits: { requests-per-minute: -5 }\n")))
        .containsExactly("tenants[1].limits.requests-per-minute: -5 (expected: > 0)");
  }

  @Test
  void negativeBudgetNamesTenantIndexAndField() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME + BETA + "    budget: { daily-usd: -1 }\n")))
        .containsExactly("tenants[1].budget.daily-usd: -1.0 (expected: 0..9000000 USD)");
  }

  @Test
  void badDurationNamesThePathAndTheExpectedForm() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME) + "server: { shutdown-grace: 30 seconds }\n"))
        .containsExactly("server.shutdown-grace: 30 seconds (expected: a duration like 500ms, 30s, 5m)");
  }

  @Test
  void breakerSettingsAreCheckedAgainstEachOther() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME) + "resilience: { breaker-window: 5, breaker-min-calls: 10 }\n"))
        .containsExactly("resilience.breaker-min-calls: 10 (expected: at most breaker-window, 5)");
    assertThat(problems(yaml(PROVIDER, MODELS, ACME) + "resilience: { breaker-failure-rate: 150 }\n"))
        .containsExactly("resilience.breaker-failure-rate: 150 (expected: 1..100 percent)");
  }

  @Test
  void zeroTimeoutIsRejected() {
    String providers = "  fake: { type: openai-compatible, base-url: http://127.0.0.1:9/v1, timeouts: { idle: 0s } }\n";
    assertThat(problems(yaml(providers, MODELS, ACME)))
        .containsExactly("providers.fake.timeouts.idle: 0ms (expected: > 0, like 500ms or 30s)");
  }

  @Test
  void wrongTypeSaysWhatWasFoundAndWhatWasExpected() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME) + "server: { port: http }\n"))
        .containsExactly("server.port: \"http\" (expected: an integer)");
    assertThat(problems(yaml(PROVIDER, MODELS, ACME + "    limits: { tokens-per-minute: 1.5 }\n")))
        .containsExactly("tenants[0].limits.tokens-per-minute: 1.5 (expected: an integer)");
    assertThat(problems(yaml(PROVIDER, "  - gpt-4o-mini\n", ACME)))
        .containsExactly("models: a list (expected: a mapping)");
  }

  @Test
  void duplicateTenantIdIsRejected() {
    String twice = ACME + "  - id: acme\n    keys: [ { id: acme-2, digest: \"" + OTHER_DIGEST + "\" } ]\n";
    assertThat(problems(yaml(PROVIDER, MODELS, twice)))
        .containsExactly("tenants[1].id: acme (expected: unique; already used)");
  }

  @Test
  void duplicateKeyDigestIsRejectedWithoutShowingIt() {
    String twice = ACME + "  - id: beta\n    keys: [ { id: beta-1, digest: \"" + DIGEST + "\" } ]\n";
    assertThat(problems(yaml(PROVIDER, MODELS, twice)))
        .containsExactly("tenants[1].keys[0].digest: <redacted> (expected: unique; the same key is configured twice)");
  }

  @Test
  void aliasPointingAtAnUnknownProviderIsRejected() {
    assertThat(problems(yaml(PROVIDER, "  gpt-4o-mini: { deployments: [ { provider: fake }, { provider: opnai, model: m } ] }\n"
        .replace("{ provider: fake }", "{ provider: fake, model: m }"), ACME)))
        .containsExactly("models.gpt-4o-mini.deployments[1].provider: opnai (expected: one of [fake])");
  }

  @Test
  void tenantModelReferencingAnUnknownAliasIsRejected() {
    assertThat(problems(yaml(PROVIDER, MODELS, ACME + "    models: [ gpt-4o-mini, gpt-5 ]\n")))
        .containsExactly("tenants[0].models[1]: gpt-5 (expected: one of [gpt-4o-mini])");
  }

  @Test
  void allCrossReferenceProblemsAreReportedSeparately() {
    String tenants = ACME + "    models: [ nope ]\n" + "  - id: acme\n    keys: [ { id: acme-2, digest: \"" + OTHER_DIGEST + "\" } ]\n";
    assertThat(problems(yaml(PROVIDER, "  gpt-4o-mini: { deployments: [ { provider: ghost, model: m } ] }\n", tenants)))
        .containsExactlyInAnyOrder(
            "models.gpt-4o-mini.deployments[0].provider: ghost (expected: one of [fake])",
            "tenants[0].models[0]: nope (expected: one of [gpt-4o-mini])",
            "tenants[1].id: acme (expected: unique; already used)");
  }

  @Test
  void openAiProviderWithoutApiKeyIsRejected() {
    assertThat(problems(yaml("  openai: { type: openai }\n", "  gpt-4o-mini: { deployments: [ { provider: openai, model: m } ] }\n", ACME)))
        .containsExactly("providers.openai.api-key: missing (expected: a key, usually \"${OPENAI_API_KEY}\")");
  }

  @Test
  void plainHttpForTypeOpenAiIsRejectedOffLoopback() {
    String providers = "  openai: { type: openai, base-url: http://api.openai.com/v1, api-key: k }\n";
    assertThat(problems(yaml(providers, "  gpt-4o-mini: { deployments: [ { provider: openai, model: m } ] }\n", ACME)))
        .containsExactly("providers.openai.base-url: http://api.openai.com/v1 (expected: https for type openai, except on loopback)");
  }

  @Test
  void plainHttpForTypeOpenAiIsAllowedOnLoopback() {
    String providers = "  openai: { type: openai, base-url: http://127.0.0.1:8000/v1, api-key: k }\n";
    assertThat(ConfigLoader.parse(yaml(providers, "  gpt-4o-mini: { deployments: [ { provider: openai, model: m } ] }\n", ACME), Map.of())
        .providers().get("openai").baseUrl()).isEqualTo("http://127.0.0.1:8000/v1");
  }

  @Test
  void azureProviderNeedsAnApiVersion() {
    String providers = "  az: { type: azure, base-url: https://res.openai.azure.com, api-key: k }\n";
    assertThat(problems(yaml(providers, "  gpt-4o-mini: { deployments: [ { provider: az, model: m } ] }\n", ACME)))
        .containsExactly("providers.az.api-version: missing (expected: the Azure OpenAI api-version, e.g. 2024-10-21)");
  }

  @Test
  void azureAndAnthropicProvidersAreAccepted() {
    String providers = "  az: { type: azure, base-url: https://res.openai.azure.com, api-key: k, api-version: 2024-10-21 }\n"
        + "  claude: { type: anthropic, api-key: k }\n";
    SluiceConfig config = ConfigLoader.parse(yaml(providers, "  gpt-4o-mini: { deployments: [ { provider: az, model: m },"
        + " { provider: claude, model: c } ] }\n", ACME), Map.of());
    assertThat(config.providers().get("claude").baseUrl()).isEqualTo("https://api.anthropic.com");
    assertThat(config.providers().get("claude").defaultMaxTokens()).isEqualTo(4096);
    assertThat(config.providers().get("az").apiVersion()).isEqualTo("2024-10-21");
  }

  @Test
  void anthropicProviderWithoutApiKeyIsRejected() {
    assertThat(problems(yaml("  claude: { type: anthropic }\n", "  gpt-4o-mini: { deployments: [ { provider: claude, model: m } ] }\n", ACME)))
        .containsExactly("providers.claude.api-key: missing (expected: a key, usually \"${ANTHROPIC_API_KEY}\")");
  }

  @Test
  void unknownProviderTypeListsTheKnownOnes() {
    assertThat(problems(yaml("  fake: { type: bedrock }\n", MODELS, ACME)))
        .containsExactly("providers.fake.type: bedrock (expected: one of openai | azure | anthropic | openai-compatible | mock)");
  }

  @Test
  void invalidYamlNamesTheLine() {
    assertThat(problems("providers:\n  fake: { type: \"openai-compatible }\n")).singleElement().asString()
        .startsWith("(document): not valid YAML at line 2");
  }

  static Stream<Arguments> invalidConfigsHoldingSecrets() {
    Map<String, String> env = Map.of("FAKE_KEY", PROVIDER_KEY, "PEPPER", "pepper-" + PROVIDER_KEY);
    return Stream.of(
        Arguments.of("duplicate digest", yaml(PROVIDER, MODELS, ACME + ACME.replace("acme", "beta")), env),
        Arguments.of("malformed digest", yaml(PROVIDER, MODELS, ACME.replace(DIGEST_HEX, DIGEST_HEX.toUpperCase())), env),
        Arguments.of("unknown key beside the api key", yaml(PROVIDER.replace(" }", ", api-kee: \"" + PROVIDER_KEY + "\" }"), MODELS, ACME), env),
        Arguments.of("api key as a list", yaml(PROVIDER.replace("\"" + PROVIDER_KEY + "\"", "[ \"" + PROVIDER_KEY + "\" ]"), MODELS, ACME), env),
        Arguments.of("env key in a number field", yaml(PROVIDER.replace(" }", ", max-connections: \"${FAKE_KEY}\" }"), MODELS, ACME), env),
        Arguments.of("env key in a duration field", yaml(PROVIDER, MODELS, ACME) + "server: { shutdown-grace: \"${FAKE_KEY}\" }\n", env),
        Arguments.of("env key in an enum field", yaml(PROVIDER.replace("openai-compatible", "\"${FAKE_KEY}\""), MODELS, ACME), env),
        Arguments.of("pepper of the wrong type", yaml(PROVIDER, MODELS, ACME) + "security: { key-pepper: [ \"${PEPPER}\" ] }\n", env),
        Arguments.of("key in base-url user-info", yaml(PROVIDER.replace("http://127.0.0.1", "http://u:" + PROVIDER_KEY + "@127.0.0.1"), MODELS, ACME), env),
        Arguments.of("key in base-url query", yaml(PROVIDER.replace("/v1,", "/v1?key=" + PROVIDER_KEY + ","), MODELS, ACME), env),
        Arguments.of("redis password", yaml(PROVIDER, MODELS, ACME) + "redis: { url: \"http://:" + PROVIDER_KEY + "@redis:6379\" }\n", env),
        Arguments.of("tenant with a negative limit", yaml(PROVIDER, MODELS, ACME + "    limits: { max-in-flight: -1 }\n"), env),
        Arguments.of("unparseable yaml around a key", "providers:\n  fake: { api-key: \"" + PROVIDER_KEY + "\n", env));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidConfigsHoldingSecrets")
  void messagesNeverRepeatASecret(String name, String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, env));
    assertThat(e).as(name).isNotNull();
    assertThat(e.problems()).isNotEmpty().allSatisfy(p -> assertThat(p).matches("(?s)\\S+: .+")
        .doesNotContain(PROVIDER_KEY).doesNotContain(PROVIDER_KEY.substring(19)).doesNotContain(DIGEST_HEX)
        .doesNotContain(DIGEST_HEX.toUpperCase()));
    assertThat(e.getMessage()).doesNotContain(PROVIDER_KEY.substring(19)).doesNotContain(DIGEST_HEX);
  }
}
