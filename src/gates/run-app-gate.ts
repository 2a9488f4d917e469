import { isLokiError } from '../errors/index.ts';
import { findAppLaunch, type AppLaunch } from './app-launch.ts';
import { AppUnderTest } from './app-under-test.ts';
import { EXCERPT_CHARACTERS, notRun } from './command-gates.ts';
import type { EvidenceTable, GateContext, GateRecord, GateVerdict } from './gate.ts';

/** How long the app has to answer its health path with 2xx, from the moment it starts. */
export const DEFAULT_STARTUP_TIMEOUT_MILLISECONDS = 30_000;

export interface AppGateJudgement {
  verdict: GateVerdict;
  reason: string;
  /** What was measured, for people. */
  details: string;
  table?: EvidenceTable;
  /** What Loki's side ran against the app (`autocannon …`, `axe-core in Chromium …`). */
  tool: string;
}

/**
 * The frame of every gate that needs the product running: find how to start it (not applicable
 * without a start command), start it in the sandbox, wait for its health path (an app that never
 * answers fails: it does not boot), let the gate measure, and stop it — whatever happens.
 */
export async function runAppGate(
  context: GateContext,
  gate: string,
  startupTimeoutMilliseconds: number,
  measure: (app: AppUnderTest, launch: AppLaunch) => Promise<AppGateJudgement>,
): Promise<GateRecord> {
  const lookup = findAppLaunch(context.projectDirectory);
  if (!lookup.found) return notRun(gate, lookup.reason, []);
  const { launch } = lookup;
  const started = performance.now();
  await using app = await AppUnderTest.start({
    runner: context.runner,
    projectDirectory: context.projectDirectory,
    startCommand: launch.startCommand,
    env: context.env,
    timeoutMilliseconds: context.timeoutMilliseconds,
    ...(context.signal === undefined ? {} : { signal: context.signal }),
  });
  const health = await app.waitUntilHealthy(launch.healthPath, startupTimeoutMilliseconds);
  const judgement: AppGateJudgement = health.healthy
    ? await measure(app, launch).catch((error: unknown) => judgeAppFailure(error, context.signal))
    : {
        verdict: 'fail',
        reason: `the app did not start: ${health.reason}`,
        details: await app.outputTail(),
        tool: 'health check',
      };
  await app.stop();
  const output = `${judgement.details}`.trim();
  return {
    output,
    result: {
      gate,
      verdict: judgement.verdict,
      reason: judgement.reason,
      evidence: {
        command: `${launch.startCommand} (sandboxed, PORT set), measured by ${judgement.tool}`,
        exitCode: null,
        durationMilliseconds: Math.round(performance.now() - started),
        counts: null,
        outputExcerpt: output.slice(-EXCERPT_CHARACTERS),
        files: launch.files,
        ...(judgement.table === undefined ? {} : { table: judgement.table }),
      },
    },
  };
}

/**
 * The app broke the session itself (its processes outlived SIGKILL, its supervisor vanished, it
 * swapped the bridge's socket): a failure of the app, with Loki's message. Anything else, an
 * abort included, is not the app's verdict and goes to the caller.
 */
function judgeAppFailure(error: unknown, signal: AbortSignal | undefined): AppGateJudgement {
  if (signal?.aborted === true || !isLokiError(error) || !error.code.startsWith('APP_')) throw error;
  return { verdict: 'fail', reason: error.message, details: '', tool: 'the app under test' };
}
