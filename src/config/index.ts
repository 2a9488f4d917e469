export { closestConfigKey } from './config-errors.ts';
export {
  CONFIG_KEYS,
  type ConfigKey,
  type ConfigKeyInfo,
  type ConfigValue,
  configSchema,
  type LokiConfig,
} from './config-schema.ts';
export { type ConfigSource, describeConfigSource } from './config-source.ts';
export {
  type LoadConfigOptions,
  loadConfig,
  type ResolvedConfig,
  userConfigPath,
  workspaceConfigPath,
} from './load-config.ts';
export { parseConfigOverrides } from './parse-config-overrides.ts';
export {
  type BreakerSettingsConfig,
  breakerSettingsFor,
  type CircuitBreakerConfig,
  circuitBreakerConfigPath,
  DEFAULT_BREAKER_SETTINGS,
  loadCircuitBreakerConfig,
} from './circuit-breaker-config.ts';
export { readConfigFile } from './read-config-file.ts';
export {
  DEFAULT_MERGE_GATES,
  GATE_STAGES,
  type GateStage,
  type GatesConfig,
  gatesConfigPath,
  type GateThresholdSettings,
  loadGatesConfig,
} from './gates-config.ts';
