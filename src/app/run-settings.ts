import { resolve } from 'node:path';
import type { ConfigKey, ConfigSource, ResolvedConfig } from '../config/index.ts';
import { usageError } from '../errors/index.ts';
import type { RunSettingsData } from '../events/index.ts';
import type { ModelOverrides, ProviderSelection } from '../providers/index.ts';
import { resolveBudgetCapUsd } from './app-agent-source.ts';
import { parseWholeNumberOption } from './parse-whole-number.ts';

/** The flags of `loki run`/`resume`/`demo` that are settings of the run, as typed (undefined: not given). */
export interface RunSettingFlags {
  provider?: string;
  script?: string;
  parallel?: string;
  budget?: string;
  perpetual?: boolean;
  maxIterations?: string;
  maxTaskAttempts?: string;
  /** false: --no-deploy; true: --deploy (deploys a run started with --no-deploy); undefined: neither. */
  deploy?: boolean;
}

export type RunSettingKey = Exclude<keyof RunSettingsData, 'store'>;

export interface ResolvedRunSettings {
  settings: RunSettingsData;
  /** For each setting, where its value came from, as the run prints it: "the run", "--parallel", … */
  sources: Record<keyof RunSettingsData, string>;
  /** The settings given on the command line this time (flags or `-c`), recorded with the run. */
  given: RunSettingKey[];
  /** The provider chosen, and why. */
  selection: ProviderSelection;
}

const DEFAULT_MAX_TASK_ATTEMPTS = 3;
const FROM_THE_RUN = 'the run';

/**
 * A run's settings (DESIGN.md §3: "A run's settings are part of the run"). For each one, lowest
 * precedence first: the configuration (defaults, files, environment), then what the run being
 * resumed recorded, then what the command line gives again (`--flag` or `-c key=value`). A resumed
 * run so continues the way it was started whatever the environment now says, and a flag given again
 * wins. The models and the script belong to their provider: a provider given anew starts from the
 * configuration's, not from the recorded ones.
 */
export function resolveRunSettings(options: {
  flags: RunSettingFlags;
  config: ResolvedConfig;
  /** The recorded settings of the run being resumed; null for a new run (or one recorded before settings were kept). */
  recorded: RunSettingsData | null;
  cwd: string;
  store: RunSettingsData['store'];
  /** Chooses the provider from an explicit choice (or undefined: configuration, then auto-detection). */
  selectProvider: (choice: string | undefined) => ProviderSelection;
}): ResolvedRunSettings {
  const picker = new SettingPicker(options.config);
  const { provider, models, script, selection } = pickProviderSettings(picker, options);
  const limits = pickRunLimits(picker, options);
  if (limits.maxIterations !== null && !limits.perpetual) {
    throw usageError(
      'CLI_INVALID_OPTION',
      '--max-iterations limits the Growth iterations of --perpetual; add --perpetual',
    );
  }
  picker.sources.store = 'the workspace';
  return {
    settings: { provider, models, script, ...limits, store: options.store },
    sources: picker.sources,
    given: picker.given,
    selection,
  };
}

type ResolveOptions = Parameters<typeof resolveRunSettings>[0];

/** Picks each setting from its strongest source and remembers which one that was. */
class SettingPicker {
  readonly given: RunSettingKey[] = [];
  readonly sources = {} as Record<keyof RunSettingsData, string>;
  readonly #config: ResolvedConfig;

  constructor(config: ResolvedConfig) {
    this.#config = config;
  }

  /** A `-c key=value` on this command line: given again, like a flag. */
  isOnCommandLine(key: ConfigKey): boolean {
    return this.#config.sources[key].kind === 'flag';
  }

  pick<Value>(
    key: RunSettingKey,
    candidates: { flag?: { value: Value | undefined; label: string }; configKey?: ConfigKey },
    fromRecord: Value | undefined,
    fromConfig: () => { value: Value; label: string },
  ): Value {
    const flag = candidates.flag;
    if (flag !== undefined && flag.value !== undefined) {
      this.given.push(key);
      this.sources[key] = flag.label;
      return flag.value;
    }
    if (candidates.configKey !== undefined && this.isOnCommandLine(candidates.configKey)) {
      this.given.push(key);
      const configured = fromConfig();
      this.sources[key] = configured.label;
      return configured.value;
    }
    if (fromRecord !== undefined) {
      this.sources[key] = FROM_THE_RUN;
      return fromRecord;
    }
    const configured = fromConfig();
    this.sources[key] = configured.label;
    return configured.value;
  }
}

/** The provider, its models and its script: they belong together (a new provider starts afresh). */
function pickProviderSettings(picker: SettingPicker, options: ResolveOptions) {
  const { flags, config, recorded } = options;
  const values = config.values;
  // The provider: validated (and auto-detected when nothing names one) by selectProvider.
  const providerFlag = flags.provider ?? (picker.isOnCommandLine('provider') ? values.provider : undefined);
  const selection = options.selectProvider(providerFlag ?? recorded?.provider);
  const provider = picker.pick(
    'provider',
    {
      flag: { value: flags.provider === undefined ? undefined : selection.provider, label: '--provider' },
      configKey: 'provider',
    },
    recorded === null ? undefined : selection.provider,
    () => ({ value: selection.provider, label: describeSelection(selection, config) }),
  );
  const sameProviderRecord = recorded !== null && recorded.provider === provider ? recorded : null;
  const modelKeys = ['modelPlanning', 'modelDefault', 'modelFast'] as const;
  const givenModelKey = modelKeys.find((key) => picker.isOnCommandLine(key));
  const models = picker.pick(
    'models',
    givenModelKey === undefined ? {} : { configKey: givenModelKey },
    sameProviderRecord?.models,
    () => ({
      value: {
        planning: values.modelPlanning === '' ? null : values.modelPlanning,
        default: values.modelDefault === '' ? null : values.modelDefault,
        fast: values.modelFast === '' ? null : values.modelFast,
      },
      // Named after the strongest source among the tiers: a -c flag, else the environment or a file.
      label: labelOf(
        config.sources[
          givenModelKey ?? modelKeys.find((key) => config.sources[key].kind !== 'default') ?? 'modelDefault'
        ],
      ),
    }),
  );
  const script = picker.pick(
    'script',
    {
      flag: {
        value: flags.script === undefined ? undefined : resolve(options.cwd, flags.script),
        label: '--script',
      },
    },
    sameProviderRecord?.script,
    () => ({ value: null, label: 'default' }),
  );
  return { provider, models, script, selection };
}

/** Parallelism, budget, attempts, Growth and deployment: each from its flag, the run, or the configuration. */
function pickRunLimits(picker: SettingPicker, options: ResolveOptions) {
  const { flags, config, recorded } = options;
  const values = config.values;
  const whole = (value: string | undefined, flag: string, maximum: number, minimum = 1) =>
    value === undefined ? undefined : parseWholeNumberOption(value, flag, maximum, minimum);
  const parallel = picker.pick(
    'parallel',
    {
      // 0: no agent in this process (a coordinator leaving the tasks to `loki worker`s; needs --repo).
      flag: { value: whole(flags.parallel, '--parallel', 64, 0), label: '--parallel' },
      configKey: 'maxParallelAgents',
    },
    recorded?.parallel,
    () => ({ value: values.maxParallelAgents, label: labelOf(config.sources.maxParallelAgents) }),
  );
  const budgetUsd = picker.pick(
    'budgetUsd',
    {
      flag: {
        value: flags.budget === undefined ? undefined : resolveBudgetCapUsd(flags.budget, values),
        label: '--budget',
      },
      configKey: 'budgetUsd',
    },
    recorded?.budgetUsd,
    () => ({
      value: resolveBudgetCapUsd(undefined, values) ?? null,
      label: labelOf(config.sources.budgetUsd),
    }),
  );
  const maxTaskAttempts = picker.pick(
    'maxTaskAttempts',
    {
      flag: {
        value: whole(flags.maxTaskAttempts, '--max-task-attempts', 100),
        label: '--max-task-attempts',
      },
    },
    recorded?.maxTaskAttempts,
    () => ({ value: DEFAULT_MAX_TASK_ATTEMPTS, label: 'default' }),
  );
  const perpetual = picker.pick(
    'perpetual',
    { flag: { value: flags.perpetual === true ? true : undefined, label: '--perpetual' } },
    recorded?.perpetual,
    () => ({ value: false, label: 'default' }),
  );
  const maxIterations = picker.pick<number | null>(
    'maxIterations',
    {
      flag: { value: whole(flags.maxIterations, '--max-iterations', 100_000), label: '--max-iterations' },
    },
    recorded?.maxIterations,
    () => ({ value: null, label: 'default' }),
  );
  // A run recorded before this setting was kept has none (undefined): it deploys, as it did then.
  const deploy = picker.pick(
    'deploy',
    { flag: { value: flags.deploy, label: flags.deploy === false ? '--no-deploy' : '--deploy' } },
    recorded?.deploy,
    () => ({ value: true, label: 'default' }),
  );
  return { parallel, budgetUsd, maxTaskAttempts, perpetual, maxIterations, deploy };
}

/**
 * One line: the settings grouped by where they came from, e.g.
 * `provider scripted, script /x/session.json, max task attempts 3, store sqlite (from the run); parallel 1 (from --parallel)`.
 */
export function describeRunSettings(resolved: ResolvedRunSettings): string {
  const { settings, sources } = resolved;
  const models = Object.entries(settings.models)
    .filter(([, model]) => model !== null)
    .map(([tier, model]) => `${tier} ${model}`);
  const items: [keyof RunSettingsData, string | null][] = [
    ['provider', `provider ${settings.provider}`],
    ['models', models.length === 0 ? null : `models ${models.join(', ')}`],
    ['script', settings.script === null ? null : `script ${settings.script}`],
    ['parallel', `parallel ${settings.parallel}`],
    ['budgetUsd', settings.budgetUsd === null ? null : `budget $${settings.budgetUsd}`],
    ['maxTaskAttempts', `max task attempts ${settings.maxTaskAttempts}`],
    ['perpetual', settings.perpetual ? 'perpetual' : null],
    ['maxIterations', settings.maxIterations === null ? null : `max iterations ${settings.maxIterations}`],
    ['deploy', settings.deploy ? null : 'no deploy'],
    // The store is where the run lives, so it is the run's own whenever the run is resumed.
    ['store', `store ${settings.store.kind}`],
  ];
  const groups = new Map<string, string[]>();
  const resumed = Object.values(sources).includes(FROM_THE_RUN);
  for (const [key, text] of items) {
    if (text === null) continue;
    const source = key === 'store' && resumed ? FROM_THE_RUN : sources[key];
    groups.set(source, [...(groups.get(source) ?? []), text]);
  }
  return [...groups.entries()]
    .map(([source, texts]) => `${texts.join(', ')} (${fromWhat(source)})`)
    .join('; ');
}

/** The run's models as the agent source takes them (a null tier: the provider's default). */
export function modelOverridesOf(settings: RunSettingsData): ModelOverrides {
  const { planning, default: defaultModel, fast } = settings.models;
  return {
    ...(planning === null ? {} : { planning }),
    ...(defaultModel === null ? {} : { default: defaultModel }),
    ...(fast === null ? {} : { fast }),
  };
}

/** "the run" → "from the run"; "default" → "defaults"; anything else → "from <it>". */
function fromWhat(source: string): string {
  return source === 'default' ? 'defaults' : `from ${source}`;
}

function labelOf(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'userFile':
      return '~/.loki/config.yaml';
    case 'workspaceFile':
      return '.loki/config/loki.yaml';
    case 'env':
      return source.variable;
    case 'flag':
      return `-c ${source.assignment}`;
  }
}

function describeSelection(selection: ProviderSelection, config: ResolvedConfig): string {
  if (selection.source === 'auto-detected') return `auto-detected: ${selection.reason}`;
  return labelOf(config.sources.provider);
}
