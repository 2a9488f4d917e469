import { join } from 'node:path';
import { z } from 'zod';
import { usageError } from '../errors/index.ts';
import { editDistance } from '../text/index.ts';
import { readConfigFile } from './read-config-file.ts';

/** Where the quality gates run: on every merge result, and on main at QA and at Deployment. */
export const GATE_STAGES = ['merge', 'qa', 'deployment'] as const;
export type GateStage = (typeof GATE_STAGES)[number];

/** What `.loki/config/gates.yaml` decides, with the defaults filled in. */
export interface GatesConfig {
  /** The gates each stage runs, in the order the gate registry lists them. */
  stages: Record<GateStage, string[]>;
  /** Gates whose failure is reported but never refuses a merge nor becomes fix work. */
  nonBlocking: string[];
  /** Thresholds the user set; a gate uses its own default for any left out. */
  thresholds: GateThresholdSettings;
  /** The file read, or null when there is none (the defaults are in force). */
  path: string | null;
}

export interface GateThresholdSettings {
  /** coverage: lines run by the tests, in percent (gate default 80). */
  minimumLineCoverage?: number;
  /** performance: the slowest 1 % of requests per route, at most (gate default 200 ms). */
  maximumP99Milliseconds?: number;
  /** load: how many times the expected traffic the app must bear (gate default 10). */
  loadMultiplier?: number;
  /** load: the traffic the app is expected to get. */
  expectedRequestsPerSecond?: number;
  /** load: the share of requests that may fail under load, in percent. */
  maximumErrorRatePercent?: number;
}

/**
 * The cheap gates (seconds, no app started) run on every merge result; the whole registry on main
 * at QA and Deployment. Every gate blocks by default: a gate that cannot decide says not-proven,
 * which never blocks, so only a real failure holds main back.
 */
export const DEFAULT_MERGE_GATES: readonly string[] = ['unit-tests', 'lint', 'types', 'security'];

const thresholdsSchema = z.strictObject({
  minimumLineCoverage: z.number().min(0).max(100).optional(),
  maximumP99Milliseconds: z.number().positive().optional(),
  loadMultiplier: z.number().min(1).optional(),
  expectedRequestsPerSecond: z.number().positive().optional(),
  maximumErrorRatePercent: z.number().min(0).max(100).optional(),
});
const gateListSchema = z.union([z.literal('all'), z.array(z.string())]);
const gatesFileSchema = z.strictObject({
  merge: gateListSchema.optional(),
  qa: gateListSchema.optional(),
  deployment: gateListSchema.optional(),
  nonBlocking: z.array(z.string()).optional(),
  thresholds: thresholdsSchema.optional(),
});
const TOP_LEVEL_KEYS = Object.keys(gatesFileSchema.shape);
const THRESHOLD_KEYS = Object.keys(thresholdsSchema.shape);

export function gatesConfigPath(workspaceRoot: string): string {
  return join(workspaceRoot, '.loki', 'config', 'gates.yaml');
}

/**
 * Reads `.loki/config/gates.yaml` (missing → the defaults). `knownGates` is the gate registry in
 * its order (config sits below the gates, so it is handed in). Anything wrong is a usage error
 * naming the file, the key and the fix; an unknown key or gate name gets the closest known one.
 */
export function loadGatesConfig(workspaceRoot: string, knownGates: readonly string[]): GatesConfig {
  const path = gatesConfigPath(workspaceRoot);
  const entries = readConfigFile(path, { kind: 'workspaceFile', path });
  const document: Record<string, unknown> = Object.fromEntries(entries ?? []);
  refuseUnknownKeys(path, document, TOP_LEVEL_KEYS, '');
  const thresholds = document.thresholds;
  if (typeof thresholds === 'object' && thresholds !== null && !Array.isArray(thresholds)) {
    refuseUnknownKeys(path, thresholds as Record<string, unknown>, THRESHOLD_KEYS, 'thresholds.');
  }
  const parsed = gatesFileSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') || '(file)';
    throw usageError(
      'LOKI_CONFIG_INVALID',
      `invalid gate configuration: ${key} in ${path}: ${issue?.message ?? 'invalid'}. ` +
        `${FIX_BY_KEY[key.split('.')[0] ?? ''] ?? 'Fix the value or remove the key.'}`,
      { path, key },
    );
  }
  const file = parsed.data;
  const stageGates = (key: GateStage, fallback: readonly string[] | 'all'): string[] => {
    const chosen = file[key] ?? fallback;
    if (chosen === 'all') return [...knownGates];
    const names = checkGateNames(path, key, chosen, knownGates);
    return knownGates.filter((gate) => names.includes(gate));
  };
  return {
    stages: {
      merge: stageGates('merge', DEFAULT_MERGE_GATES),
      qa: stageGates('qa', 'all'),
      deployment: stageGates('deployment', 'all'),
    },
    nonBlocking: checkGateNames(path, 'nonBlocking', file.nonBlocking ?? [], knownGates),
    thresholds: file.thresholds ?? {},
    path: entries === undefined ? null : path,
  };
}

const FIX_BY_KEY: Record<string, string> = {
  merge: 'Write "all" or a list of gate names, e.g. [unit-tests, lint].',
  qa: 'Write "all" or a list of gate names, e.g. [unit-tests, lint].',
  deployment: 'Write "all" or a list of gate names, e.g. [unit-tests, lint].',
  nonBlocking: 'Write a list of gate names, e.g. [coverage].',
  thresholds: 'Write numbers, e.g. "minimumLineCoverage: 80" (a percentage between 0 and 100).',
};

function checkGateNames(
  path: string,
  key: string,
  names: readonly string[],
  knownGates: readonly string[],
): string[] {
  for (const name of names) {
    if (knownGates.includes(name)) continue;
    const suggestion = closest(name, knownGates);
    throw usageError(
      'LOKI_CONFIG_INVALID',
      `invalid gate configuration: ${key} in ${path} names an unknown gate "${name}". ` +
        (suggestion === undefined ? '' : `Did you mean "${suggestion}"? `) +
        `The gates are ${knownGates.join(', ')}.`,
      { path, key, gate: name, suggestion },
    );
  }
  return [...names];
}

function refuseUnknownKeys(
  path: string,
  document: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
): void {
  for (const key of Object.keys(document)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    const advice =
      suggestion === undefined
        ? `Known keys: ${known.map((name) => prefix + name).join(', ')}.`
        : `Did you mean "${prefix}${suggestion}"?`;
    throw usageError(
      'LOKI_CONFIG_UNKNOWN_KEY',
      `invalid gate configuration: unknown key "${prefix}${key}" in ${path}. ${advice}`,
      { path, key: prefix + key, suggestion },
    );
  }
}

/** Case, `_` and `-` ignored; beyond a third of the word a suggestion misleads more than it helps. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const normalize = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(normalize(word), normalize(candidate));
    const tolerance = Math.max(2, Math.floor(normalize(candidate).length / 3));
    if (distance <= tolerance && (best === undefined || distance < best.distance))
      best = { candidate, distance };
  }
  return best?.candidate;
}
