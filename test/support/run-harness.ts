import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSession, type SessionSpec } from '../../src/bench/generated-session.ts';
import type { LokiEvent } from '../../src/events/index.ts';
import { REPOSITORY_ROOT, type TempWorkspace } from './cli-harness.ts';

export const TEST_PRD = '# Files product\n\nA product made of small text files, one per requirement.\n';

/** Writes prd.md and session.json (built from `spec`) into the workspace; returns the run arguments. */
export function prepareRun(workspace: TempWorkspace, spec: SessionSpec, parallel = 4): string[] {
  writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
  writeFileSync(join(workspace.root, 'session.json'), JSON.stringify(buildSession(spec), null, 2));
  return ['--provider', 'scripted', '--script', 'session.json', '--parallel', String(parallel)];
}

export interface RunningLoki {
  child: ChildProcess;
  /** Resolves with the exit code (or -1 when killed by a signal) and the output. */
  done: Promise<{ exitCode: number; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves when a line of stdout matches. */
  waitForOutput(pattern: RegExp, timeoutMilliseconds?: number): Promise<void>;
  /** What it printed on stdout so far. */
  output(): string;
  /** What it printed on stderr so far. */
  errorOutput(): string;
}

/** The real `loki` executable in a child process, its output collected as it comes. */
export function startLoki(
  workspace: TempWorkspace,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  /** Where it runs (default: the workspace root), e.g. one machine's directory of a distributed run. */
  cwd: string = workspace.root,
): RunningLoki {
  const child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'bin', 'loki.js'), ...args], {
    cwd,
    env: { ...workspace.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<{
    exitCode: number;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    child.on('close', (code, signal) => resolve({ exitCode: code ?? -1, signal, stdout, stderr }));
  });
  return {
    child,
    done,
    output: () => stdout,
    errorOutput: () => stderr,
    waitForOutput: (pattern, timeoutMilliseconds = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `no output matching ${String(pattern)} within ${timeoutMilliseconds} ms:\n${stdout}\n${stderr}`,
            ),
          );
        }, timeoutMilliseconds);
        listeners.add(check);
        check();
      }),
  };
}

export function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Task ids of the checkpoints on main, oldest first, one per checkpoint (duplicates kept). */
export function mergedTaskIds(root: string): string[] {
  return git(root, ['log', '--reverse', 'main', '--format=%(trailers:key=Loki-Task,valueonly)'])
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Worktrees other than the repository's own checkout. */
export function extraWorktrees(root: string): string[] {
  return git(root, ['worktree', 'list', '--porcelain'])
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length))
    .filter((path) => path !== root);
}

export function readEvents(ndjson: string): LokiEvent[] {
  return ndjson
    .split('\n')
    .filter((line) => line.startsWith('{') && !line.includes('"type":"run.outcome"'))
    .map((line) => JSON.parse(line) as LokiEvent);
}

export function readJsonFile<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function reportFiles(root: string): string[] {
  return readdirSync(join(root, '.loki', 'artifacts', 'reports'));
}
