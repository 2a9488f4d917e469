import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonOrNull } from '../text/index.ts';
import { notRun } from './command-gates.ts';
import type { Gate, GateContext, GateRecord } from './gate.ts';

/**
 * Licences that let a product use, change and ship the code without opening its own source, asking
 * at most for the notice to be kept. Anything else is refused until a person allows it: strong
 * copyleft (GPL, AGPL, SSPL) would bind the whole product, and an unknown licence is no licence.
 */
const PERMISSIVE_LICENCES = new Set([
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'CC-BY-4.0',
  'CC0-1.0',
  'ISC',
  'MIT',
  'MIT-0',
  'MPL-2.0',
  'Python-2.0',
  'Unlicense',
  'WTFPL',
  'Zlib',
]);

/** Licences whose terms ask the shipped product to carry the dependency's NOTICE file. */
const NOTICE_LICENCES = new Set(['Apache-2.0']);

const packageManifestSchema = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  license: z.unknown().optional(),
  licenses: z.unknown().optional(),
});

interface InstalledPackage {
  name: string;
  licence: string | null;
  hasNotice: boolean;
}

/**
 * Legal: every installed npm dependency is under a licence the product may ship, and the ones whose
 * licence asks for notices are listed with theirs. Read from the installed packages' own manifests
 * (node_modules), because the lockfile does not carry licences; other ecosystems are not read yet
 * (not proven).
 */
export const legalGate: Gate = {
  name: 'legal',
  description: 'dependencies are under licences the product may ship; required notices are listed',
  run: (context) => Promise.resolve(judgeLicences(context)),
};

function judgeLicences(context: GateContext): GateRecord {
  const modules = join(context.projectDirectory, 'node_modules');
  if (!existsSync(join(context.projectDirectory, 'package.json'))) {
    return notRun('legal', 'not applicable: only npm projects (package.json) are read so far', []);
  }
  // By name: readdir's order is the file system's, and the report must not change with it.
  const packages = listInstalledPackages(modules).sort((left, right) => left.name.localeCompare(right.name));
  if (packages.length === 0 && declaresDependencies(context.projectDirectory)) {
    return notRun(
      'legal',
      'the dependencies are not installed (npm install): their licences cannot be read',
      ['package.json'],
    );
  }
  const refused = packages.filter((entry) => !isShippable(entry.licence));
  const notices = packages.filter((entry) => entry.licence !== null && requiresNotice(entry.licence));
  const lines = [
    ...refused.map((entry) => `refused: ${entry.name} (${entry.licence ?? 'no licence'})`),
    ...notices.map(
      (entry) =>
        `notice required: ${entry.name} (${entry.licence ?? ''})${entry.hasNotice ? ', NOTICE file present' : ''}`,
    ),
  ];
  const passed = refused.length === 0;
  return {
    output: lines.join('\n'),
    result: {
      gate: 'legal',
      verdict: passed ? 'pass' : 'fail',
      reason: passed
        ? `${packages.length} installed packages, all under licences the product may ship${notices.length === 0 ? '' : `; ${notices.length} ask for their notice to be kept`}`
        : `${refused.length} of ${packages.length} installed packages are under a licence the product may not ship as it is: ${refused
            .slice(0, 5)
            .map((entry) => `${entry.name} (${entry.licence ?? 'no licence'})`)
            .join(', ')}${refused.length > 5 ? ', …' : ''}`,
      evidence: {
        command: null,
        exitCode: null,
        durationMilliseconds: 0,
        counts: null,
        outputExcerpt: lines.join('\n').slice(-4_000),
        files: ['package.json', 'node_modules/*/package.json'],
      },
    },
  };
}

function declaresDependencies(directory: string): boolean {
  const manifest = z
    .looseObject({ dependencies: z.record(z.string(), z.unknown()).optional() })
    .safeParse(parseJsonOrNull(readFileSync(join(directory, 'package.json'), 'utf8')));
  return manifest.success && Object.keys(manifest.data.dependencies ?? {}).length > 0;
}

/** Every package under node_modules (scoped ones included, nested node_modules too). */
function listInstalledPackages(modules: string): InstalledPackage[] {
  if (!existsSync(modules)) return [];
  const found: InstalledPackage[] = [];
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const directories = entry.name.startsWith('@')
      ? readdirSync(join(modules, entry.name), { withFileTypes: true })
          .filter((scoped) => scoped.isDirectory())
          .map((scoped) => join(modules, entry.name, scoped.name))
      : [join(modules, entry.name)];
    for (const directory of directories) {
      const installed = readInstalledPackage(directory);
      if (installed !== null) found.push(installed);
      found.push(...listInstalledPackages(join(directory, 'node_modules')));
    }
  }
  return found;
}

function readInstalledPackage(directory: string): InstalledPackage | null {
  const path = join(directory, 'package.json');
  if (!existsSync(path)) return null;
  const manifest = packageManifestSchema.safeParse(parseJsonOrNull(readFileSync(path, 'utf8')));
  if (!manifest.success) return null;
  return {
    name: `${manifest.data.name ?? directory}${manifest.data.version === undefined ? '' : `@${manifest.data.version}`}`,
    licence: licenceOf(manifest.data.license ?? manifest.data.licenses),
    hasNotice: readdirSync(directory).some((name) => /^notice(\.|$)/i.test(name)),
  };
}

/** `"MIT"`, `{ "type": "MIT" }` (old), `[{ "type": "MIT" }, …]` (older: any of them). */
function licenceOf(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (Array.isArray(value)) {
    const types = value.map(licenceOf).filter((type): type is string => type !== null);
    return types.length === 0 ? null : types.length === 1 ? (types[0] ?? null) : `(${types.join(' OR ')})`;
  }
  if (value !== null && typeof value === 'object' && 'type' in value) return licenceOf(value.type);
  return null;
}

/**
 * An SPDX expression is shippable when every AND-ed part is, and an OR has one shippable choice.
 * Parsed by hand: the expressions in manifests are short, and no maintained SPDX parser is already
 * a dependency of Loki.
 */
function isShippable(licence: string | null): boolean {
  if (licence === null) return false;
  const expression = licence.replace(/^\((.*)\)$/, '$1').trim();
  const alternatives = splitTopLevel(expression, 'OR');
  if (alternatives.length > 1) return alternatives.some(isShippable);
  const required = splitTopLevel(expression, 'AND');
  if (required.length > 1) return required.every(isShippable);
  const identifier = expression.replace(/\+$/, '').replace(/\s+WITH\s+.*$/, '');
  return PERMISSIVE_LICENCES.has(identifier);
}

function requiresNotice(licence: string): boolean {
  return [...NOTICE_LICENCES].some((identifier) => licence.includes(identifier));
}

/** Splits `a OR (b AND c) OR d` at the top-level operator only. */
function splitTopLevel(expression: string, operator: 'AND' | 'OR'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const token of expression.split(/(\(|\)|\s+)/)) {
    if (token === '(') depth += 1;
    if (token === ')') depth -= 1;
    if (depth === 0 && token === operator) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += token;
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== '');
}
