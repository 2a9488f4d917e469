import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { lintSource } from '@secretlint/core';
import { creator as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';
import { runGit } from '../git/index.ts';
import type { Gate, GateContext, GateRecord } from './gate.ts';

/** Larger files are generated or data, not code where someone pasted a key. */
const MAX_SCANNED_BYTES = 1024 * 1024;
const SKIPPED_DIRECTORIES = new Set(['.git', '.loki', 'node_modules', 'dist', 'build', 'coverage', 'vendor']);

/**
 * Code that is not wrong by itself but is where injections start: listed for a person to review,
 * not failed (a sanitised innerHTML or a test's eval is fine).
 */
const RISKY_PATTERNS: readonly { label: string; pattern: RegExp; extensions: readonly string[] }[] = [
  {
    label: 'eval',
    pattern: /\beval\s*\(/,
    extensions: ['.js', '.mjs', '.cjs', '.ts', '.tsx', '.jsx', '.py'],
  },
  {
    label: 'new Function',
    pattern: /\bnew Function\s*\(/,
    extensions: ['.js', '.mjs', '.cjs', '.ts', '.tsx', '.jsx'],
  },
  {
    label: 'innerHTML assignment',
    pattern: /\.(?:inner|outer)HTML\s*=(?!=)/,
    extensions: ['.js', '.mjs', '.ts', '.tsx', '.jsx'],
  },
  {
    label: 'dangerouslySetInnerHTML',
    pattern: /dangerouslySetInnerHTML/,
    extensions: ['.jsx', '.tsx', '.js', '.ts'],
  },
  {
    label: 'shell command from a template',
    pattern: /\bexec(?:Sync)?\s*\(\s*`[^`]*\$\{/,
    extensions: ['.js', '.mjs', '.cjs', '.ts'],
  },
  { label: 'shell=True', pattern: /shell\s*=\s*True/, extensions: ['.py'] },
  { label: 'pickle.loads', pattern: /\bpickle\.loads?\s*\(/, extensions: ['.py'] },
  {
    label: 'yaml.load without a safe loader',
    pattern: /\byaml\.load\s*\((?![^)]*SafeLoader)/,
    extensions: ['.py'],
  },
];

const TEST_FILE = /(^|\/)(test|tests|__tests__|spec)\/|\.(test|spec)\.[cm]?[jt]sx?$|(^|\/)test_[^/]*\.py$/;

/**
 * Security: no secret in the project's files (secretlint's recommended rules: cloud keys, tokens,
 * private keys, basic-auth URLs, …, the field's maintained rule set), and risky code listed. The
 * files are the ones git would commit (tracked and untracked, not ignored), or every file outside
 * dependency and build folders when the project is not a git repository.
 */
export const securityGate: Gate = {
  name: 'security',
  description: 'no secrets in the project; risky code patterns listed for review',
  run: (context) => scanProject(context),
};

async function scanProject(context: GateContext): Promise<GateRecord> {
  const started = Date.now();
  const files = await projectFiles(context);
  const secrets: string[] = [];
  const risky: string[] = [];
  for (const file of files) {
    const content = readText(join(context.projectDirectory, file));
    if (content === null) continue;
    const result = await lintSource({
      source: { filePath: file, content, ext: extname(file), contentType: 'text' },
      options: {
        config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommendedRules }] },
        maskSecrets: true,
        noPhysicFilePath: true,
      },
    });
    for (const message of result.messages) {
      secrets.push(`${file}:${message.loc.start.line}: ${message.ruleId}: ${message.message}`);
    }
    if (!TEST_FILE.test(file)) risky.push(...findRiskyCode(file, content));
  }
  const lines = [...secrets.map((line) => `secret: ${line}`), ...risky.map((line) => `review: ${line}`)];
  const passed = secrets.length === 0;
  const review = risky.length === 0 ? '' : `; ${risky.length} risky code patterns listed for review`;
  return {
    output: lines.join('\n'),
    result: {
      gate: 'security',
      verdict: passed ? 'pass' : 'fail',
      reason: passed
        ? `no secrets in ${files.length} files (secretlint, recommended rules)${review}`
        : `${secrets.length} secrets found: ${secrets.slice(0, 3).join('; ')}${secrets.length > 3 ? '; …' : ''}`,
      evidence: {
        command: null,
        exitCode: null,
        durationMilliseconds: Date.now() - started,
        counts: null,
        outputExcerpt: lines.join('\n').slice(0, 4_000),
        files: [...new Set([...secrets, ...risky].map((line) => line.split(':')[0] ?? ''))],
      },
    },
  };
}

function findRiskyCode(file: string, content: string): string[] {
  const patterns = RISKY_PATTERNS.filter((risk) => risk.extensions.includes(extname(file)));
  if (patterns.length === 0) return [];
  const found: string[] = [];
  content.split('\n').forEach((line, index) => {
    for (const risk of patterns)
      if (risk.pattern.test(line)) found.push(`${file}:${index + 1}: ${risk.label}`);
  });
  return found;
}

async function projectFiles(context: GateContext): Promise<string[]> {
  if (context.onlyFiles !== undefined) return context.onlyFiles.filter((path) => !isSkipped(path)).sort();
  if (existsSync(join(context.projectDirectory, '.git'))) {
    const listed = await runGit(
      context.projectDirectory,
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      {
        ...(context.signal === undefined ? {} : { signal: context.signal }),
      },
    );
    return [...new Set(listed.stdout.split('\0').filter((path) => path !== '' && !isSkipped(path)))].sort();
  }
  return walk(context.projectDirectory, context.projectDirectory).sort();
}

function isSkipped(path: string): boolean {
  return path.split('/').some((part) => SKIPPED_DIRECTORIES.has(part));
}

function walk(root: string, directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory() && !SKIPPED_DIRECTORIES.has(entry.name))
      found.push(...walk(root, join(directory, entry.name)));
    else if (entry.isFile()) found.push(relative(root, join(directory, entry.name)));
  }
  return found;
}

/** The file as text; null when it is gone, too big, or binary (a NUL byte in its first 8 KB). */
function readText(path: string): string | null {
  if (!existsSync(path)) return null;
  const stats = statSync(path);
  if (!stats.isFile() || stats.size > MAX_SCANNED_BYTES) return null;
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 8192).includes(0)) return null;
  return bytes.toString('utf8');
}
