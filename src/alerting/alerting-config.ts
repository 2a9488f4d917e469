import { join } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../config/index.ts';
import { usageError } from '../errors/index.ts';
import { editDistance } from '../text/index.ts';
import { ALERT_SEVERITIES } from './alert.ts';

/**
 * `.loki/config/alerting.yaml`: where alerts go. Values may name environment variables as
 * `${NAME}`, so webhook URLs, routing keys and signing secrets stay out of the file (and out of git).
 */
const SEVERITY_REASON = `expected one of ${ALERT_SEVERITIES.join(', ')}`;
const ALERT_EVENTS = ['run.ended', 'breaker.changed', 'release.deployed'] as const;

const commonShape = {
  name: z
    .string({ error: 'expected a short name such as ops-slack' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
      error: 'expected a short name of letters, digits and . _ -',
    }),
  minSeverity: z.enum(ALERT_SEVERITIES, { error: SEVERITY_REASON }).default('warning'),
  /** Only these event types (absent: all that alert). */
  events: z
    .array(z.enum(ALERT_EVENTS, { error: `expected event types among ${ALERT_EVENTS.join(', ')}` }))
    .optional(),
};

const httpsUrl = (example: string) =>
  z.url({ protocol: /^https?$/, error: `expected an http(s) URL such as ${example}` });

const channelShapes = {
  slack: {
    ...commonShape,
    type: z.literal('slack'),
    webhookUrl: httpsUrl('https://hooks.slack.com/services/…'),
  },
  pagerduty: {
    ...commonShape,
    type: z.literal('pagerduty'),
    routingKey: z
      .string({ error: 'expected the 32-character integration key of an Events API v2 integration' })
      .min(1, { error: 'expected the integration key of an Events API v2 integration' }),
    url: httpsUrl('https://events.pagerduty.com/v2/enqueue').default(
      'https://events.pagerduty.com/v2/enqueue',
    ),
  },
  webhook: {
    ...commonShape,
    type: z.literal('webhook'),
    url: httpsUrl('https://alerts.example.com/loki'),
    secret: z
      .string({ error: 'expected the shared secret the receiver verifies signatures with' })
      .min(16, { error: 'expected a signing secret of at least 16 characters' }),
  },
} as const;

const deliveryShape = {
  maxAttempts: z.int({ error: 'expected a whole number from 1 to 10' }).min(1).max(10).default(5),
  queueSize: z.int({ error: 'expected a whole number from 1 to 10000' }).min(1).max(10_000).default(200),
  timeoutSeconds: z.number({ error: 'expected seconds from 1 to 120' }).min(1).max(120).default(10),
  /** How long the end of a run waits for alerts still on their way before counting them dropped. */
  flushSeconds: z.number({ error: 'expected seconds from 0 to 120' }).min(0).max(120).default(5),
};

const channelSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject(channelShapes.slack),
    z.strictObject(channelShapes.pagerduty),
    z.strictObject(channelShapes.webhook),
  ],
  { error: 'expected type: slack, pagerduty or webhook' },
);

const fileShape = {
  channels: z.array(channelSchema, { error: 'expected a list of channels' }).default([]),
  delivery: z.strictObject(deliveryShape).default({
    maxAttempts: 5,
    queueSize: 200,
    timeoutSeconds: 10,
    flushSeconds: 5,
  }),
};
const fileSchema = z.strictObject(fileShape).superRefine((config, context) => {
  const seen = new Set<string>();
  config.channels.forEach((channel, index) => {
    if (seen.has(channel.name)) {
      context.addIssue({
        code: 'custom',
        path: ['channels', index, 'name'],
        message: 'two channels have this name',
      });
    }
    seen.add(channel.name);
  });
});

export type AlertingConfig = z.output<typeof fileSchema>;
export type AlertChannelConfig = AlertingConfig['channels'][number];

export interface LoadedAlertingConfig {
  config: AlertingConfig;
  path: string;
  /** Every value that must never be printed: webhook URLs, routing keys, secrets, substituted values. */
  secrets: string[];
}

export function alertingConfigPath(workspaceRoot: string): string {
  return join(workspaceRoot, '.loki', 'config', 'alerting.yaml');
}

/** Reads the file (missing → no channels); anything invalid → exit 2 naming the file, key and fix. */
export function loadAlertingConfig(
  workspaceRoot: string,
  env: Readonly<Record<string, string | undefined>>,
): LoadedAlertingConfig {
  const path = alertingConfigPath(workspaceRoot);
  const entries = readConfigFile(path, { kind: 'workspaceFile', path });
  return parseAlertingConfig(Object.fromEntries(entries ?? []), path, env);
}

export function parseAlertingConfig(
  document: unknown,
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): LoadedAlertingConfig {
  const substituted: string[] = [];
  const expanded = substituteEnvironment(document, [], path, env, substituted);
  const parsed = fileSchema.safeParse(expanded);
  if (!parsed.success) throw configError(parsed.error.issues, path, expanded);
  const secrets = [...substituted];
  for (const channel of parsed.data.channels) {
    if (channel.type === 'slack') secrets.push(channel.webhookUrl);
    if (channel.type === 'pagerduty') secrets.push(channel.routingKey);
    if (channel.type === 'webhook') secrets.push(channel.secret);
  }
  return { config: parsed.data, path, secrets };
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function substituteEnvironment(
  value: unknown,
  at: readonly (string | number)[],
  path: string,
  env: Readonly<Record<string, string | undefined>>,
  substituted: string[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_whole, name: string) => {
      const found = env[name];
      if (found === undefined || found === '') {
        throw usageError(
          'LOKI_CONFIG_INVALID',
          `invalid configuration: ${at.join('.')} in ${path} names \${${name}}, which is not set. Set ${name} in the environment, or write the value in the file.`,
          { path, key: at.join('.'), variable: name },
        );
      }
      substituted.push(found);
      return found;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => substituteEnvironment(item, [...at, index], path, env, substituted));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substituteEnvironment(item, [...at, key], path, env, substituted),
      ]),
    );
  }
  return value;
}

function configError(issues: readonly z.core.$ZodIssue[], path: string, document: unknown) {
  // An unknown key first: it is usually a misspelling that also explains a "missing" key.
  const issue = issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? issues[0];
  const parentPath = (issue?.path ?? []).map(String);
  if (issue?.code === 'unrecognized_keys') {
    const unknownKey = issue.keys[0] ?? '';
    const fullKey = [...parentPath, unknownKey].join('.');
    const known = knownKeysAt(parentPath, document);
    const suggestion = closestKey(unknownKey, known);
    const advice =
      suggestion === undefined
        ? `Known keys here: ${known.join(', ')}.`
        : `Did you mean "${[...parentPath, suggestion].join('.')}"?`;
    return usageError(
      'LOKI_CONFIG_UNKNOWN_KEY',
      `invalid configuration: unknown key "${fullKey}" in ${path}. ${advice}`,
      {
        path,
        key: fullKey,
        suggestion,
      },
    );
  }
  const key = parentPath.join('.') || '(file)';
  return usageError(
    'LOKI_CONFIG_INVALID',
    `invalid configuration: ${key} in ${path}: ${issue?.message ?? 'invalid'}. Fix the value or remove the key.`,
    { path, key },
  );
}

function knownKeysAt(at: readonly string[], document: unknown): string[] {
  if (at.length === 0) return Object.keys(fileShape);
  if (at.length === 1 && at[0] === 'delivery') return Object.keys(deliveryShape);
  if (at.length === 2 && at[0] === 'channels') {
    const channel = (document as { channels?: { type?: unknown }[] }).channels?.[Number(at[1])];
    const type = channel?.type;
    if (type === 'slack' || type === 'pagerduty' || type === 'webhook')
      return Object.keys(channelShapes[type]);
    return Object.keys(commonShape).concat('type');
  }
  return [];
}

/** Case, `_` and `-` ignored; beyond a third of the word a "suggestion" misleads more than it helps. */
function closestKey(key: string, candidates: readonly string[]): string | undefined {
  const normalize = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(normalize(key), normalize(candidate));
    const tolerance = Math.max(2, Math.floor(candidate.length / 3));
    if (distance <= tolerance && (best === undefined || distance < best.distance))
      best = { key: candidate, distance };
  }
  return best?.key;
}
