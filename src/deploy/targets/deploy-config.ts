import { join } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../../config/index.ts';
import { usageError } from '../../errors/index.ts';
import { editDistance } from '../../text/index.ts';
import { CLOUD_TARGET_NAMES } from './cloud-target.ts';

/**
 * `.loki/config/deploy.yaml`: which target Loki deploys to and, per platform, what it deploys to.
 * Every text value here ends up as one argument of a CLI: names are restricted to characters such
 * names really use and may not start with `-`, so no value can be read by a CLI as an option.
 */
const NAME_REASON = 'expected a name of letters, digits and . _ : / @ - (not starting with -)';
const name = () =>
  z
    .string({ error: NAME_REASON })
    .trim()
    .max(500, { error: 'expected at most 500 characters' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, { error: NAME_REASON });

const RELATIVE_PATH_REASON = 'expected a path inside the release such as k8s/ (relative, no ..)';
const relativePath = () =>
  z
    .string({ error: RELATIVE_PATH_REASON })
    .trim()
    .regex(/^(?!\/)(?!-)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/, { error: RELATIVE_PATH_REASON });

const httpUrl = () =>
  z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://app.example.com' });

const percent = (what: string) =>
  z
    .number({ error: `expected ${what}, a number from 0 to 100` })
    .min(0)
    .max(100);

const sectionShapes = {
  /** The local target's canary (DEFAULT_CANARY_THRESHOLDS for a key left out). */
  canary: {
    steps: z
      .array(z.int({ error: 'expected whole percents from 1 to 99' }).min(1).max(99), {
        error: 'expected a list of increasing percents below 100, such as [10, 50]',
      })
      .min(1)
      .refine((steps) => steps.every((step, index) => index === 0 || step > (steps[index - 1] ?? 0)), {
        error: 'expected increasing percents, such as [10, 50]',
      })
      .optional(),
    maxErrorRateIncreasePercent: percent('the error rate points a canary may add').optional(),
    maxLatencyRatio: z.number({ error: 'expected a ratio of at least 1, such as 3' }).min(1).optional(),
    latencySlackMilliseconds: z
      .int({ error: 'expected whole milliseconds from 0 to 60000' })
      .min(0)
      .max(60_000)
      .optional(),
    minimumRequests: z
      .int({ error: 'expected a whole number of requests from 1 to 100000' })
      .min(1)
      .max(100_000)
      .optional(),
  },
  container: {
    engine: z
      .enum(['auto', 'docker', 'podman'], { error: 'expected auto, docker or podman' })
      .default('auto'),
    port: z
      .int({ error: 'expected the port the app listens on inside the container, 1 to 65535' })
      .min(1)
      .max(65535)
      .default(3000),
  },
  vercel: { scope: name().optional() },
  netlify: { site: name(), dir: relativePath().optional() },
  fly: { app: name() },
  railway: { service: name(), environment: name().optional(), url: httpUrl() },
  cloudRun: { service: name(), region: name(), project: name().optional() },
  appRunner: { serviceArn: name(), region: name(), imageRepository: name() },
  containerApps: { name: name(), resourceGroup: name(), imageRepository: name() },
  kubernetes: {
    manifests: relativePath(),
    deployment: name(),
    namespace: name().optional(),
    context: name().optional(),
    url: httpUrl(),
    rolloutTimeoutSeconds: z
      .int({ error: 'expected a whole number of seconds from 10 to 3600' })
      .min(10)
      .max(3600)
      .default(300),
  },
} as const;

/** Which section each target reads (the container target's section is optional: it has defaults). */
const SECTION_OF_TARGET = {
  container: 'container',
  vercel: 'vercel',
  netlify: 'netlify',
  fly: 'fly',
  railway: 'railway',
  'cloud-run': 'cloudRun',
  'app-runner': 'appRunner',
  'container-apps': 'containerApps',
  kubernetes: 'kubernetes',
} as const satisfies Record<(typeof CLOUD_TARGET_NAMES)[number], keyof typeof sectionShapes>;

const TARGET_REASON = `expected one of local, ${CLOUD_TARGET_NAMES.join(', ')}`;

const deployFileShape = {
  target: z.enum(['local', ...CLOUD_TARGET_NAMES], { error: TARGET_REASON }).default('local'),
  strategy: z
    .enum(['blue-green', 'canary'], { error: 'expected blue-green or canary' })
    .default('blue-green'),
  /** Overrides the architecture's deployment.healthPath when set. */
  healthPath: z
    .string({ error: 'expected a path such as /health' })
    .regex(/^\/[^\s]*$/, { error: 'expected a path starting with / such as /health' })
    .optional(),
  canary: z.strictObject(sectionShapes.canary).optional(),
  container: z.strictObject(sectionShapes.container).optional(),
  vercel: z.strictObject(sectionShapes.vercel).optional(),
  netlify: z.strictObject(sectionShapes.netlify).optional(),
  fly: z.strictObject(sectionShapes.fly).optional(),
  railway: z.strictObject(sectionShapes.railway).optional(),
  cloudRun: z.strictObject(sectionShapes.cloudRun).optional(),
  appRunner: z.strictObject(sectionShapes.appRunner).optional(),
  containerApps: z.strictObject(sectionShapes.containerApps).optional(),
  kubernetes: z.strictObject(sectionShapes.kubernetes).optional(),
};

const deployFileSchema = z.strictObject(deployFileShape).superRefine((config, context) => {
  if (config.target !== 'local' && config.strategy === 'canary') {
    context.addIssue({
      code: 'custom',
      path: ['strategy'],
      message: `canary is the local target's; target ${config.target} deploys with blue-green`,
    });
  }
  if (config.target === 'local' || config.target === 'container') return;
  const section = SECTION_OF_TARGET[config.target];
  if (config[section] === undefined) {
    context.addIssue({
      code: 'custom',
      path: [section],
      message: `target ${config.target} needs a "${section}:" section (its keys: ${Object.keys(sectionShapes[section]).join(', ')})`,
    });
  }
});

export type DeployConfig = z.output<typeof deployFileSchema>;

export function deployConfigPath(workspaceRoot: string): string {
  return join(workspaceRoot, '.loki', 'config', 'deploy.yaml');
}

/** Reads `.loki/config/deploy.yaml` (missing → local target); anything invalid → exit 2 naming key and fix. */
export function loadDeployConfig(workspaceRoot: string): DeployConfig {
  const path = deployConfigPath(workspaceRoot);
  const entries = readConfigFile(path, { kind: 'workspaceFile', path });
  return parseDeployConfig(Object.fromEntries(entries ?? []), path);
}

export function parseDeployConfig(document: unknown, path: string): DeployConfig {
  const parsed = deployFileSchema.safeParse(document);
  if (parsed.success) return parsed.data;
  // An unknown key first: it is usually a misspelling that also explains a "missing" key.
  const issue =
    parsed.error.issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? parsed.error.issues[0];
  if (issue === undefined) throw usageError('LOKI_CONFIG_INVALID', `invalid configuration in ${path}.`);
  const parentPath = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const unknownKey = issue.keys[0] ?? '';
    const fullKey = [...parentPath, unknownKey].join('.');
    const suggestion = closestKey(unknownKey, knownKeysAt(parentPath));
    const advice =
      suggestion === undefined
        ? `Known keys here: ${knownKeysAt(parentPath).join(', ')}.`
        : `Did you mean "${[...parentPath, suggestion].join('.')}"?`;
    throw usageError(
      'LOKI_CONFIG_UNKNOWN_KEY',
      `invalid configuration: unknown key "${fullKey}" in ${path}. ${advice}`,
      { path, key: fullKey, suggestion },
    );
  }
  const key = parentPath.join('.') || '(file)';
  throw usageError(
    'LOKI_CONFIG_INVALID',
    `invalid configuration: ${key} in ${path}: ${issue.message}. Fix the value or remove the key.`,
    { path, key },
  );
}

function knownKeysAt(path: readonly string[]): string[] {
  if (path.length === 0) return Object.keys(deployFileShape);
  const section = path[0] as keyof typeof sectionShapes;
  return path.length === 1 && section in sectionShapes ? Object.keys(sectionShapes[section]) : [];
}

/** Case, `_` and `-` ignored; beyond a third of the word a "suggestion" misleads more than it helps. */
function closestKey(key: string, candidates: readonly string[]): string | undefined {
  const normalize = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(normalize(key), normalize(candidate));
    const tolerance = Math.max(2, Math.floor(candidate.length / 3));
    if (distance <= tolerance && (best === undefined || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best?.key;
}
