package dev.sluice.config;

/** Defaults applied to every tenant that sets no limit of its own. */
public record LimitsConfig(TenantLimits defaults, Boolean perModel) {
  public static final LimitsConfig DEFAULTS = new LimitsConfig(null, null);

  public LimitsConfig {
    defaults = defaults == null ? TenantLimits.UNLIMITED : defaults;
    perModel = perModel != null && perModel;
  }
}
