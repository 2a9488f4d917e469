import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GateStage } from '../config/index.ts';
import type { NewEvent } from '../events/index.ts';
import {
  type GateResult as QualityGateResult,
  parseTestCounts,
  parseTestResults,
  runGates,
  type TestCounts,
  type TestResult,
} from '../gates/index.ts';
import { runGit } from '../git/index.ts';
import type { DeploymentSettings } from '../planning/index.ts';
import type { CommandResult, CommandRunner } from '../sandbox/index.ts';
import { gateEvaluatedEvent } from './gate-evaluated-event.ts';
import { checkHealth } from './health-check.ts';
import type { StageGateSettings } from './merge-gate-check.ts';
import { npmTestScript } from './npm-test-script.ts';

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
  /** The stage's quality gates (gates.yaml) on this commit, in the registry's order. */
  qualityGates: QualityGateResult[];
  /** Those of them that failed and block (not listed as nonBlocking): each is fix work. */
  blockingGates: string[];
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
  /** The quality gates of this stage, run on the checkout after the commands; none when absent. */
  qualityGates?: { stage: Exclude<GateStage, 'merge'>; settings: StageGateSettings; now: () => number };
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
    const commandResults = new Map<string, CommandResult>();
    const gates = await runCommands(path, options, commandResults);
    const gatesPassed = gates.length === options.commands.length && gates.every((gate) => gate.passed);
    const deployment = options.deployment;
    const health =
      options.checkBoot && deployment !== null && gatesPassed
        ? await probeHealth(path, deployment, options)
        : null;
    const qualityGates = await runQualityGates(path, commit, options, commandResults);
    const blockingGates = qualityGates
      .filter((result) => result.verdict === 'fail')
      .map((result) => result.gate)
      .filter((gate) => options.qualityGates?.settings.nonBlocking.includes(gate) !== true);
    const passed =
      gatesPassed &&
      blockingGates.length === 0 &&
      (health === null ? !options.checkBoot || options.deployment === null : health.passed);
    return { commit, gates, health, qualityGates, blockingGates, passed };
  } finally {
    await runGit(root, ['worktree', 'remove', '--force', path], { allowFailure: true });
    await runGit(root, ['worktree', 'prune'], { allowFailure: true });
  }
}

/**
 * The stage's quality gates on the checkout, one after another (see runGates); each verdict is
 * recorded as gate.evaluated, `blocks` when it failed and is not listed as non-blocking.
 */
async function runQualityGates(
  path: string,
  commit: string,
  options: VerifyMainOptions,
  commandResults: ReadonlyMap<string, CommandResult>,
): Promise<QualityGateResult[]> {
  const stage = options.qualityGates;
  if (stage === undefined || stage.settings.gates.length === 0) return [];
  const run = await runGates(
    {
      projectDirectory: path,
      runner: replayingRunner(options.runner, commandResults, path),
      env: options.env,
      timeoutMilliseconds: options.timeoutMilliseconds ?? 10 * 60_000,
      thresholds: stage.settings.thresholds,
      now: stage.now,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
    stage.settings.gates,
    (result) =>
      options.emit(
        gateEvaluatedEvent({
          runId: options.runId,
          taskId: null,
          stage: stage.stage,
          commit,
          result,
          blocks: result.verdict === 'fail' && !stage.settings.nonBlocking.includes(result.gate),
        }),
      ),
  );
  return run.results;
}

/**
 * The gates' runner on this checkout: a command the project's commands already ran here (or
 * `npm test` when that ran its script) is answered with that run, so the tests run once, and a
 * flaky test cannot pass one run and fail the other.
 */
function replayingRunner(
  inner: CommandRunner,
  results: ReadonlyMap<string, CommandResult>,
  path: string,
): CommandRunner {
  return {
    kind: inner.kind,
    run: (request) => {
      const script = request.command === 'npm test' ? npmTestScript(path) : null;
      const earlier = results.get(request.command) ?? (script === null ? undefined : results.get(script));
      return earlier === undefined ? inner.run(request) : Promise.resolve(earlier);
    },
  };
}

/** The project's gates, one by one in the sandbox, until one fails; each recorded as verification.ran. */
async function runCommands(
  path: string,
  options: VerifyMainOptions,
  results: Map<string, CommandResult>,
): Promise<GateResult[]> {
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
    results.set(command, result);
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
