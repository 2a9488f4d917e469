import { LOKI_ENTRY_POINT } from '../workspace/index.ts';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { LokiError, usageError } from '../errors/index.ts';
import { readRunLock } from '../orchestrator/index.ts';
import { readPrd, workspacePaths } from '../workspace/index.ts';
import type { AppContext } from './app-context.ts';
import { findLiveRun } from './find-live-run.ts';
import { openAppWorkspace } from './open-app-workspace.ts';
import type { RunSettingFlags } from './run-settings.ts';

export interface BackgroundRunRequest {
  /** The PRD to start from (relative to the workspace); null resumes the workspace's run. */
  prdPath: string | null;
  flags: Pick<RunSettingFlags, 'provider' | 'script' | 'parallel' | 'budget'>;
  /** How long to wait for the run to take the workspace's run lock (default 60 s). */
  waitMilliseconds?: number;
}

export interface BackgroundRun {
  /** The run's id, as soon as its process holds the run lock; null when it ended before we saw it. */
  runId: string | null;
  pid: number;
  /** The run's output (stdout and stderr), relative to the workspace. */
  logFile: string;
  /** True while the run's process is alive when this returns. */
  isRunning: boolean;
}

/**
 * Starts `loki run <prd>` (or `loki resume`) as a detached child of this installation's Node, with
 * its output in `.loki/logs/`, and returns once the run holds the workspace's run lock: the caller
 * (the MCP server, whose request must not last a run) polls status from then on. The child outlives
 * the caller, in its own process group. A run that fails before it starts is an error carrying the
 * tail of its log, which says why in the run's own words.
 */
export async function startRunInBackground(
  context: AppContext,
  request: BackgroundRunRequest,
): Promise<BackgroundRun> {
  // Refusals that need no child come first, so a bad call leaves no trace.
  if (request.prdPath !== null) readPrd(request.prdPath, context.cwd);
  await assertNoLiveRun(context);
  const paths = workspacePaths(context.cwd);
  mkdirSync(paths.logsDirectory, { recursive: true });
  const logFile = join(paths.logsDirectory, `background-run-${context.clock.now()}.log`);
  const output = openSync(logFile, 'a');
  const child = spawn(process.execPath, [LOKI_ENTRY_POINT, ...runArguments(request)], {
    cwd: context.cwd,
    env: context.env,
    detached: true,
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', () => {});
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw backgroundRunFailed(logFile, context.cwd, 'it could not be started');
  const runId = await waitForRunLock(context, pid, exit, request.waitMilliseconds ?? 60_000);
  const exitCode = await Promise.race([exit, Promise.resolve('running' as const)]);
  if (runId === null && exitCode !== 'running' && exitCode !== 0) {
    throw backgroundRunFailed(logFile, context.cwd, `it exited with code ${exitCode ?? 'null'}`);
  }
  return { runId, pid, logFile: relative(context.cwd, logFile), isRunning: exitCode === 'running' };
}

function runArguments(request: BackgroundRunRequest): string[] {
  const { flags } = request;
  return [
    ...(request.prdPath === null ? ['resume'] : ['run', request.prdPath]),
    // The dashboard's port is shared by every run of the machine: a background run serves none.
    '--no-dashboard',
    ...(flags.provider === undefined ? [] : ['--provider', flags.provider]),
    ...(flags.script === undefined ? [] : ['--script', flags.script]),
    ...(flags.parallel === undefined ? [] : ['--parallel', flags.parallel]),
    ...(flags.budget === undefined ? [] : ['--budget', flags.budget]),
  ];
}

async function assertNoLiveRun(context: AppContext): Promise<void> {
  if (!existsSync(workspacePaths(context.cwd).database)) return;
  await using workspace = await openAppWorkspace(context);
  const found = await findLiveRun(workspace);
  if (found.kind !== 'live') return;
  throw usageError(
    'RUN_ALREADY_LIVE',
    `run ${found.runId} (pid ${found.owner.pid}) is already running in this workspace; follow it with status, or stop it first`,
    { runId: found.runId, pid: found.owner.pid },
  );
}

/**
 * Polls the run lock (the run's own record that it has started) until the child holds it or ends.
 * Null: it ended first (a completed workspace has nothing to do) or was not seen within the wait.
 */
async function waitForRunLock(
  context: AppContext,
  pid: number,
  exit: Promise<number | null>,
  waitMilliseconds: number,
): Promise<string | null> {
  let hasExited = false;
  void exit.then(() => (hasExited = true));
  const deadline = context.clock.now() + waitMilliseconds;
  const lockFile = workspacePaths(context.cwd).runLockFile;
  for (;;) {
    const lock = readRunLock(lockFile);
    if (lock !== null && lock.isAlive && lock.owner.pid === pid) return lock.owner.runId;
    if (hasExited || context.clock.now() >= deadline) return null;
    await delay(100);
  }
}

function backgroundRunFailed(logFile: string, root: string, what: string): LokiError {
  const tail = existsSync(logFile)
    ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n')
    : '';
  return new LokiError(
    `the run did not start: ${what}. Its output (${relative(root, logFile)}):\n${tail === '' ? '(empty)' : tail}`,
    { code: 'RUN_BACKGROUND_FAILED', category: 'user', context: { logFile } },
  );
}
