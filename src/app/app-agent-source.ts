import { statSync } from 'node:fs';
import { parseBudgetCapUsd } from '../budget/index.ts';
import type { LokiConfig } from '../config/index.ts';
import { findExecutable } from '../doctor/index.ts';
import { type AgentSource, type AgentSourceOptions, createAgentSource } from '../orchestrator/index.ts';
import { usageError } from '../errors/index.ts';
import {
  isProviderName,
  type ModelOverrides,
  PROVIDER_NAMES,
  type ProviderSelection,
  selectProvider,
} from '../providers/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import type { AppContext } from './app-context.ts';

/** `--provider`, else the configured provider (loki.yaml, LOKI_PROVIDER, -c provider=…), else auto-detect. */
export function selectRunProvider(
  context: Pick<AppContext, 'env'>,
  config: LokiConfig,
  flag: string | undefined,
): ProviderSelection {
  // The configuration checks the limits' shape; the provider names are known here.
  const unknown = Object.keys(config.providerLimits).find((name) => !isProviderName(name));
  if (unknown !== undefined) {
    throw usageError(
      'LOKI_CONFIG_INVALID',
      `invalid configuration: providerLimits names an unknown provider "${unknown}". Known providers: ${PROVIDER_NAMES.join(', ')}.`,
      { key: 'providerLimits', provider: unknown },
    );
  }
  const choice = flag ?? (config.provider === '' ? undefined : config.provider);
  return selectProvider({
    ...(choice === undefined ? {} : { flag: choice }),
    env: context.env,
    isOnPath: (name: string) => findExecutable(name, context.env.PATH) !== undefined,
    isFile: (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() === true,
  });
}

/** The tier models from the configuration (LOKI_MODEL_*); `defaultModel` (e.g. `--model`) wins for the default tier. */
export function configuredModelOverrides(config: LokiConfig, defaultModel?: string): ModelOverrides {
  const model = defaultModel ?? (config.modelDefault === '' ? undefined : config.modelDefault);
  return {
    ...(config.modelPlanning === '' ? {} : { planning: config.modelPlanning }),
    ...(model === undefined ? {} : { default: model }),
    ...(config.modelFast === '' ? {} : { fast: config.modelFast }),
  };
}

/** `--budget`, else the configured cap (loki.yaml, LOKI_BUDGET_USD, -c budgetUsd=…); 0 means none. */
export function resolveBudgetCapUsd(flag: string | undefined, config: LokiConfig): number | undefined {
  if (flag !== undefined) return parseBudgetCapUsd(flag);
  return config.budgetUsd > 0 ? config.budgetUsd : undefined;
}

/** The agent source of a run or a task: agent CLIs run inside bubblewrap when commands do. */
export function createAppAgentSource(
  context: Pick<AppContext, 'env'>,
  options: Omit<AgentSourceOptions, 'env' | 'bubblewrapPath'> & { runner: CommandRunner },
): AgentSource {
  return createAgentSource({
    ...options,
    env: context.env,
    bubblewrapPath:
      options.runner.kind === 'bubblewrap' ? findExecutable('bwrap', context.env.PATH) : undefined,
  });
}
