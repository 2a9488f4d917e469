import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NewEvent } from '../events/index.ts';
import { parseTestCounts, parseTestResults, type TestCounts, type TestResult } from '../gates/index.ts';
import { runGit } from '../git/index.ts';
import type { DeploymentSettings } from '../planning/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import { checkHealth } from './health-check.ts';

export interface GateResult {
  command: string;
  passed: boolean;
  exitCode: number | null;
  durationMilliseconds: number;
  /** Test counts read from the output, when the output has a summary Loki recognises. */
  tests: TestCounts | null;
  /** Each test the runner named, read from the whole output (requirement traceability needs the names). */
  testResults: TestResult[];
  outputTail: string;
}

export interface HealthResult {
  passed: boolean;
  statusCode: number | null;
  startCommand: string;
  healthPath: string;
  durationMilliseconds: number;
  outputTail: string;
}

export interface MainVerification {
  commit: string;
  gates: GateResult[];
  /** Null when the product is not a service (no deployment settings): its boot is not checked. */
  health: HealthResult | null;
  passed: boolean;
}

export interface VerifyMainOptions {
  repositoryRoot: string;
  worktreesDirectory: string;
  mainBranch: string;
  commands: readonly string[];
  deployment: DeploymentSettings | null;
  /** Whether to start the product and probe its health path too. */
  checkBoot: boolean;
  runner: CommandRunner;
  env: Readonly<Record<string, string>>;
  emit: (event: NewEvent) => void;
  runId: string;
  timeoutMilliseconds?: number;
  signal?: AbortSignal;
}

const OUTPUT_TAIL_CHARACTERS = 4000;

/**
 * The harness's own evidence about main: a fresh detached checkout of main, the project's gates run
 * in the sandbox one by one, then (for a service) the product started and its health path probed.
 * The checkout is removed afterwards, whatever happened.
 */
export async function verifyMain(options: VerifyMainOptions): Promise<MainVerification> {
  const signalOption = options.signal === undefined ? {} : { signal: options.signal };
  const path = join(options.worktreesDirectory, 'verify-main');
  const root = options.repositoryRoot;
  if (existsSync(path)) await runGit(root, ['worktree', 'remove', '--force', path], { allowFailure: true });
  await runGit(root, ['worktree', 'prune']);
  await runGit(
    root,
    [
      '-c',
      'core.hooksPath=/dev/null',
      'worktree',
      'add',
      '--quiet',
      '--force',
      '--detach',
      path,
      `refs/heads/${options.mainBranch}`,
    ],
    signalOption,
  );
  try {
    const commit = (await runGit(path, ['rev-parse', 'HEAD'])).stdout.trim();
    const gates = await runGates(path, options);
    const gatesPassed = gates.length === options.commands.length && gates.every((gate) => gate.passed);
    const deployment = options.deployment;
    const health =
      options.checkBoot && deployment !== null && gatesPassed
        ? await probeHealth(path, deployment, options)
        : null;
    const passed =
      gatesPassed && (health === null ? !options.checkBoot || options.deployment === null : health.passed);
    return { commit, gates, health, passed };
  } finally {
    await runGit(root, ['worktree', 'remove', '--force', path], { allowFailure: true });
    await runGit(root, ['worktree', 'prune'], { allowFailure: true });
  }
}

/** The project's gates, one by one in the sandbox, until one fails; each recorded as verification.ran. */
async function runGates(path: string, options: VerifyMainOptions): Promise<GateResult[]> {
  const gates: GateResult[] = [];
  for (const command of options.commands) {
    const result = await options.runner.run({
      command,
      cwd: path,
      writableDirectory: path,
      timeoutMilliseconds: options.timeoutMilliseconds ?? 10 * 60_000,
      env: options.env,
      allowNetwork: false,
      maxOutputBytes: 1_000_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const output = `${result.stdout}\n${result.stderr}`.trim();
    const gate: GateResult = {
      command,
      passed: result.exitCode === 0 && !result.timedOut,
      exitCode: result.exitCode,
      durationMilliseconds: Math.round(result.durationMilliseconds),
      tests: parseTestCounts(output),
      testResults: parseTestResults(output),
      outputTail: output.slice(-OUTPUT_TAIL_CHARACTERS),
    };
    gates.push(gate);
    options.emit({
      type: 'verification.ran',
      runId: options.runId,
      taskId: null,
      data: {
        command,
        exitCode: gate.exitCode,
        passed: gate.passed,
        durationMilliseconds: gate.durationMilliseconds,
        outputTail: gate.outputTail.slice(-1000),
      },
    });
    if (!gate.passed) break;
  }
  return gates;
}

/** The product started from the checkout and its health path probed; recorded as verification.ran. */
async function probeHealth(
  path: string,
  deployment: DeploymentSettings,
  options: VerifyMainOptions,
): Promise<HealthResult> {
  const probe = await checkHealth({
    runner: options.runner,
    cwd: path,
    startCommand: deployment.startCommand,
    healthPath: deployment.healthPath,
    env: options.env,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const health: HealthResult = {
    passed: probe.passed,
    statusCode: probe.statusCode,
    startCommand: deployment.startCommand,
    healthPath: deployment.healthPath,
    durationMilliseconds: Math.round(probe.durationMilliseconds),
    outputTail: probe.outputTail.slice(-OUTPUT_TAIL_CHARACTERS),
  };
  options.emit({
    type: 'verification.ran',
    runId: options.runId,
    taskId: null,
    data: {
      command: `health check: ${deployment.startCommand} → GET ${deployment.healthPath}`,
      exitCode: probe.passed ? 0 : 1,
      passed: probe.passed,
      durationMilliseconds: health.durationMilliseconds,
      outputTail: health.outputTail.slice(-1000),
    },
  });
  return health;
}
