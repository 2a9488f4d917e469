import { z } from 'zod';

/**
 * The one schema for Loki's configuration. Defaults, bounds, reasons shown to the user and the
 * one-line descriptions (used by `loki config show --help` and the README) all live here, so a
 * new knob is added in exactly one place plus its environment variable below.
 */

/**
 * A whole-number field. The same reason is attached to every way the value can be wrong (not a
 * number, a fraction, out of range) so the user sees one sentence that says what is accepted.
 */
function wholeNumber(options: { minimum: number; maximum?: number; unit?: string }) {
  const unit = options.unit === undefined ? '' : ` of ${options.unit}`;
  const reason =
    options.maximum === undefined
      ? `expected a whole number${unit}, at least ${options.minimum}`
      : `expected a whole number${unit} from ${options.minimum} to ${options.maximum}`;
  const schema = z.int({ error: reason }).min(options.minimum, { error: reason });
  return options.maximum === undefined ? schema : schema.max(options.maximum, { error: reason });
}

/** A name such as a provider or a model id: one line of visible characters, or empty for "default". */
function modelText() {
  return z
    .string({ error: 'expected a name such as claude-sonnet-5-5, or an empty string for the default' })
    .trim()
    .max(200, { error: 'expected at most 200 characters' })
    .regex(/^[^\s]*$/, { error: 'expected a name without spaces' });
}

const flag = z.boolean({ error: 'expected true or false (also accepted: 1/0, yes/no)' });

const PROVIDER_LIMITS_EXAMPLE = '{"anthropic": {"maxConcurrentRequests": 4, "requestsPerMinute": 50}}';

/**
 * Limits per provider name. The names themselves are checked against the known providers where the
 * provider is chosen (src/cli), which knows them; here only their shape.
 */
const providerLimits = z.record(
  z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, { error: 'expected provider names such as anthropic or openai as keys' }),
  z.strictObject(
    {
      maxConcurrentRequests: wholeNumber({ minimum: 1, maximum: 1000 }).optional(),
      requestsPerMinute: wholeNumber({ minimum: 1, maximum: 1_000_000 }).optional(),
    },
    { error: `expected maxConcurrentRequests and/or requestsPerMinute, e.g. ${PROVIDER_LIMITS_EXAMPLE}` },
  ),
  { error: `expected a mapping of provider names to limits, e.g. ${PROVIDER_LIMITS_EXAMPLE}` },
);

const STORE_REASON =
  "expected a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL, or an empty string for the workspace's SQLite file";

const SANDBOX_NETWORK_REASON = 'expected none, registries or full';

/**
 * Host names (or addresses) the `registries` network lets through; `*.example.com` covers the
 * names under example.com. The default (the one place it is written) is the npm, PyPI, crates.io
 * and Go module registries and the Debian/Ubuntu mirrors, so that dependencies install; the
 * provider's model API host is added to whatever list is in force (start-sandbox-network).
 */
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9.:-]*[a-z0-9])?$/i;
const allowedHosts = z.array(
  z
    .string()
    .trim()
    .regex(HOST_PATTERN, { error: 'expected host names such as registry.npmjs.org or *.example.com' }),
  { error: 'expected a list of host names, e.g. ["registry.npmjs.org", "pypi.org"]' },
);
const DEFAULT_SANDBOX_ALLOWED_HOSTS = [
  'registry.npmjs.org',
  'pypi.org',
  'files.pythonhosted.org',
  'crates.io',
  'static.crates.io',
  'index.crates.io',
  'proxy.golang.org',
  'sum.golang.org',
  'deb.debian.org',
  'security.debian.org',
  'archive.ubuntu.com',
  'security.ubuntu.com',
];

/**
 * The implementation types, whose changes are reviewed by default: they write the product's code.
 * Kept as ids here (the config layer must not depend on the agent catalog).
 */
const DEFAULT_REVIEWED_TASK_TYPES = [
  'eng-frontend',
  'eng-backend',
  'eng-database',
  'eng-mobile',
  'eng-api',
  'eng-perf',
  'eng-infra',
];

export const configShape = {
  maxRetries: wholeNumber({ minimum: 0 })
    .default(50)
    .describe(
      'How many times a failing model call (rate limit, overload, network) is retried before the attempt fails.',
    ),
  baseWait: wholeNumber({ minimum: 0, unit: 'seconds' })
    .default(60)
    .describe('First backoff wait, in seconds, after a retryable failure; later waits grow exponentially.'),
  maxWait: wholeNumber({ minimum: 1, unit: 'seconds' })
    .default(3600)
    .describe('Upper bound, in seconds, on any single backoff wait; must be at least baseWait.'),
  skipPrereqs: flag
    .default(false)
    .describe('Skip the prerequisite checks (the ones `loki doctor` runs) before a run starts.'),
  maxParallelAgents: wholeNumber({ minimum: 1, maximum: 256 })
    .default(10)
    .describe('How many agents may work on tasks at the same time.'),
  followMachineLoad: flag
    .default(true)
    .describe(
      'Run fewer agents while the load average is above twice the CPU count; false where the load ' +
        "average is not Loki's to use (a container sees its host's load).",
    ),
  dashboardPort: wholeNumber({ minimum: 0, maximum: 65535 })
    .default(57374)
    .describe('TCP port the local dashboard listens on (127.0.0.1 only); 0 picks any free port.'),
  budgetUsd: z
    .number({ error: 'expected an amount of US dollars such as 25 or 2.50 (0 means no cap)' })
    .min(0, { error: 'expected an amount of US dollars such as 25 or 2.50 (0 means no cap)' })
    .max(1_000_000, { error: 'expected at most 1,000,000 US dollars' })
    .default(0)
    .describe('Hard cap on model spend in USD; a call that could cross it is not made (exit 4). 0: no cap.'),
  provider: modelText()
    .default('')
    .describe(
      'Provider to use (anthropic, openai, openai-compatible, ollama, claude-code, codex, scripted); empty: auto-detect.',
    ),
  modelPlanning: modelText()
    .default('')
    .describe('Model for the planning tier (architecture, security review); empty: the provider default.'),
  modelDefault: modelText()
    .default('')
    .describe('Model for the default tier (implementation); empty: the provider default.'),
  modelFast: modelText()
    .default('')
    .describe('Model for the fast tier (tests, docs, simple edits); empty: the provider default.'),
  leaseSeconds: wholeNumber({ minimum: 5, maximum: 86_400, unit: 'seconds' })
    .default(120)
    .describe(
      'How long a claimed task stays with its worker without a heartbeat (one every third of it): a worker that dies (kill -9, a lost machine) gives its tasks back to the queue after this.',
    ),
  rateLimitRequeueSeconds: wholeNumber({ minimum: 0, maximum: 86_400, unit: 'seconds' })
    .default(5)
    .describe(
      'A model call told to wait longer than this (rate limit, retry-after) gives its worker back: the task waits in the queue, no attempt counted.',
    ),
  providerLimits: providerLimits
    .default({})
    .describe(
      'Per provider, across all agents of a run: maxConcurrentRequests (calls in flight) and requestsPerMinute (spaced evenly); unset: no limit.',
    ),
  store: z
    .string({ error: STORE_REASON })
    .trim()
    .regex(/^(postgres(ql)?:\/\/.+)?$/i, { error: STORE_REASON })
    .default('')
    .describe(
      "Where the store lives: a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL (PostgreSQL, for several machines), or empty for the workspace's SQLite file .loki/loki.db.",
    ),
  sealedAcceptanceTests: flag
    .default(false)
    .describe(
      'Before each Development implementation task, an eng-qa task writes its acceptance tests; Loki seals them and fails work that changes them.',
    ),
  'sandbox.network': z
    .enum(['none', 'registries', 'full'], { error: SANDBOX_NETWORK_REASON })
    .default('registries')
    .describe(
      "Network of agents' sandboxed commands and agent CLIs: none, registries (only sandbox.allowedHosts and the model API host, through a filtering proxy) or full (the host's network).",
    ),
  'sandbox.allowedHosts': allowedHosts
    .default(DEFAULT_SANDBOX_ALLOWED_HOSTS)
    .describe(
      "Hosts the registries network lets through (package registries by default); the provider's model API host is always added.",
    ),
  'review.enabled': z
    .enum(['auto', 'on', 'off'], { error: 'expected auto, on or off' })
    .default('auto')
    .describe(
      'Blind review of each task before its merge: on, off, or auto (on, except that the scripted provider reviews only tasks whose session scripts reviewers).',
    ),
  'review.taskTypes': z
    .array(
      z
        .string()
        .trim()
        .regex(/^[a-z][a-z0-9-]*$/, { error: 'expected agent type ids such as eng-backend' }),
      { error: 'expected a list of agent type ids, e.g. ["eng-backend", "eng-frontend"]' },
    )
    .default(DEFAULT_REVIEWED_TASK_TYPES)
    .describe('The task types (agent type ids) that are reviewed; by default the implementation types.'),
  'review.maxRounds': wholeNumber({ minimum: 1, maximum: 10 })
    .default(2)
    .describe(
      'Review rounds per task attempt: blocking findings go back to the agent and the change is reviewed again, up to this many times; then the task fails.',
    ),
};

export type ConfigKey = keyof typeof configShape;

/** Cross-field rules carry the other key in `params.relatedKey` so the error can name both. */
export const configSchema = z.strictObject(configShape).superRefine((config, context) => {
  if (config.maxWait < config.baseWait) {
    context.addIssue({
      code: 'custom',
      path: ['maxWait'],
      params: { relatedKey: 'baseWait' satisfies ConfigKey },
      message: 'maxWait must be at least baseWait. Raise maxWait or lower baseWait.',
    });
  }
});

export type LokiConfig = z.output<typeof configSchema>;

/** The environment variable for each key, kept from the original Loki Mode (DESIGN.md §6). */
const ENVIRONMENT_VARIABLES: Record<ConfigKey, string> = {
  maxRetries: 'LOKI_MAX_RETRIES',
  baseWait: 'LOKI_BASE_WAIT',
  maxWait: 'LOKI_MAX_WAIT',
  skipPrereqs: 'LOKI_SKIP_PREREQS',
  maxParallelAgents: 'LOKI_MAX_PARALLEL_AGENTS',
  followMachineLoad: 'LOKI_FOLLOW_MACHINE_LOAD',
  dashboardPort: 'LOKI_DASHBOARD_PORT',
  budgetUsd: 'LOKI_BUDGET_USD',
  provider: 'LOKI_PROVIDER',
  modelPlanning: 'LOKI_MODEL_PLANNING',
  modelDefault: 'LOKI_MODEL_DEFAULT',
  modelFast: 'LOKI_MODEL_FAST',
  leaseSeconds: 'LOKI_LEASE_SECONDS',
  rateLimitRequeueSeconds: 'LOKI_RATE_LIMIT_REQUEUE_SECONDS',
  providerLimits: 'LOKI_PROVIDER_LIMITS',
  store: 'LOKI_STORE_URL',
  sealedAcceptanceTests: 'LOKI_SEALED_ACCEPTANCE_TESTS',
  'sandbox.network': 'LOKI_SANDBOX_NETWORK',
  'sandbox.allowedHosts': 'LOKI_SANDBOX_ALLOWED_HOSTS',
  'review.enabled': 'LOKI_REVIEW_ENABLED',
  'review.taskTypes': 'LOKI_REVIEW_TASK_TYPES',
  'review.maxRounds': 'LOKI_REVIEW_MAX_ROUNDS',
};

/** A value as configured: a number, a flag, a name, a list of names, or (providerLimits) a mapping. */
export type ConfigValue = number | boolean | string | readonly string[] | Readonly<Record<string, unknown>>;

export interface ConfigKeyInfo {
  key: ConfigKey;
  environmentVariable: string;
  defaultValue: ConfigValue;
  description: string;
}

function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(configShape, key);
}

/** Metadata for every key, in declaration order; derived from the schema, never maintained by hand. */
export const CONFIG_KEYS: readonly ConfigKeyInfo[] = Object.keys(configShape)
  .filter(isConfigKey)
  .map((key) => {
    const fieldSchema = configShape[key];
    return {
      key,
      environmentVariable: ENVIRONMENT_VARIABLES[key],
      defaultValue: fieldSchema.def.defaultValue,
      description: fieldSchema.description ?? '',
    };
  });

export function findConfigKey(key: string): ConfigKeyInfo | undefined {
  return CONFIG_KEYS.find((info) => info.key === key);
}
