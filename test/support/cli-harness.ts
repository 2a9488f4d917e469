import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { type Clock, systemClock } from '../../src/clock/index.ts';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..');

/** A temp directory with its own HOME, removed on dispose. */
export class TempWorkspace implements Disposable {
  readonly root: string;
  readonly home: string;
  constructor(prefix = 'loki-test-') {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    this.home = mkdtempSync(join(tmpdir(), `${prefix}home-`));
  }
  get env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.home,
      GIT_AUTHOR_NAME: 'Loki Test',
      GIT_AUTHOR_EMAIL: 'loki@example.invalid',
      GIT_COMMITTER_NAME: 'Loki Test',
      GIT_COMMITTER_EMAIL: 'loki@example.invalid',
      // Runs serve their dashboard on a free port: tests run side by side.
      LOKI_DASHBOARD_PORT: '0',
    };
  }
  [Symbol.dispose](): void {
    rmSync(this.root, { recursive: true, force: true });
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Runs the CLI in this process (fast) with captured output. */
export async function loki(
  workspace: TempWorkspace,
  args: readonly string[],
  options: { clock?: Clock; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const exitCode = await runCli(args, {
    cwd: options.cwd ?? workspace.root,
    env: { ...workspace.env, ...options.env },
    clock: options.clock ?? systemClock,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    exitCode: 0,
  });
  return { exitCode, stdout, stderr };
}

/** Parses stdout of a `--json` command, failing the test with the output when it is not JSON. */
export function parseJsonOutput<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch (error) {
    throw new Error(
      `stdout is not JSON (exit ${result.exitCode}): ${result.stdout}\nstderr: ${result.stderr}`,
      {
        cause: error,
      },
    );
  }
}

/** Runs the real `loki` executable (bin/loki.js → dist/) in a child process. */
export function lokiProcess(
  workspace: TempWorkspace,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): CliResult {
  const result = spawnSync(process.execPath, [join(REPOSITORY_ROOT, 'bin', 'loki.js'), ...args], {
    cwd: workspace.root,
    env: { ...workspace.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  return { exitCode: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
