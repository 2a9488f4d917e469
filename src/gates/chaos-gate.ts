import type { AppDependency, AppUnderTest } from './app-under-test.ts';
import type { AppLaunch } from './app-launch.ts';
import type { Gate } from './gate.ts';
import { formatMeasurements, measureRoute, type RouteMeasurement } from './measure-route.ts';
import { MEASUREMENT_COLUMNS, measurementRows } from './performance-gate.ts';
import { type AppGateJudgement, DEFAULT_STARTUP_TIMEOUT_MILLISECONDS, runAppGate } from './run-app-gate.ts';

export interface ChaosGateOptions {
  /** The traffic while the dependency is killed, in requests per second. */
  requestsPerSecond: number;
  durationSeconds: number;
  /** How long the app has to serve again after the crash (and at first start). */
  startupTimeoutMilliseconds: number;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosGateOptions = {
  requestsPerSecond: 20,
  durationSeconds: 3,
  startupTimeoutMilliseconds: DEFAULT_STARTUP_TIMEOUT_MILLISECONDS,
};

/**
 * Chaos, in two steps on the started app:
 * 1. a crash: SIGKILL to its whole process group, then its start command again in the same sandbox
 *    (same files, same private /tmp); it must serve its health path again;
 * 2. a killed dependency under load: while autocannon drives the main route, every process the
 *    start command started that listens on a port of its own (a database, a cache, a second
 *    service) gets SIGKILL; the app must stay up and answer every request, 2xx or an HTTP error
 *    (failing cleanly), none left without an answer.
 * An app without such a dependency is not proven: half the claim would be unchecked.
 */
export function createChaosGate(overrides: Partial<ChaosGateOptions> = {}): Gate {
  const options = { ...DEFAULT_CHAOS_OPTIONS, ...overrides };
  return {
    name: 'chaos',
    description: 'the app survives a crash and restart, and the loss of a dependency under load',
    run: (context) =>
      runAppGate(context, 'chaos', options.startupTimeoutMilliseconds, async (app, launch) => {
        await app.restart();
        const again = await app.waitUntilHealthy(launch.healthPath, options.startupTimeoutMilliseconds);
        if (!again.healthy) {
          return {
            verdict: 'fail',
            reason: `the app did not serve again after a crash (SIGKILL) and restart: ${again.reason}`,
            details: await app.outputTail(),
            tool: 'SIGKILL and restart',
          };
        }
        const restarted = `served again ${String(again.durationMilliseconds)} ms after a crash (SIGKILL) and restart`;
        return cutUnderLoad(app, launch, options, restarted, context.signal);
      }),
  };
}

async function cutUnderLoad(
  app: AppUnderTest,
  launch: AppLaunch,
  options: ChaosGateOptions,
  restarted: string,
  signal: AbortSignal | undefined,
): Promise<AppGateJudgement> {
  const route = launch.routes[0] ?? '/';
  let cut: Promise<{ killed: AppDependency[] } | { error: unknown }> | null = null;
  const measurement: RouteMeasurement = await measureRoute(app.url, route, {
    durationSeconds: options.durationSeconds,
    connections: Math.max(2, Math.ceil(options.requestsPerSecond / 10)),
    overallRate: options.requestsPerSecond,
    onFirstResponse: () => {
      cut = app.cutDependencies().then(
        (killed) => ({ killed }),
        (error: unknown) => ({ error }),
      );
    },
    ...(signal === undefined ? {} : { signal }),
  });
  const outcome = await (cut ?? Promise.resolve({ killed: [] as AppDependency[] }));
  if ('error' in outcome) throw outcome.error;
  const tool = `SIGKILL and restart, then autocannon (${String(options.requestsPerSecond)} requests/s on ${route}) while the dependencies were killed`;
  const table = { columns: MEASUREMENT_COLUMNS, rows: measurementRows([measurement]) };
  if (outcome.killed.length === 0) {
    return {
      verdict: 'not-proven',
      reason: `${restarted}; no dependency to kill: the start command starts no other process listening on a port of its own`,
      details: formatMeasurements([measurement]),
      table,
      tool,
    };
  }
  const killed = outcome.killed.map((each) => `${each.command} (port ${each.ports.join(', ')})`).join(', ');
  const details = `killed: ${killed}\n${formatMeasurements([measurement])}`;
  if (app.hasExited) {
    return {
      verdict: 'fail',
      reason: `${restarted}, but it exited when its dependency was killed: ${killed}`,
      details: `${details}\n${await app.outputTail()}`,
      table,
      tool,
    };
  }
  const unanswered = measurement.errors + measurement.timeouts;
  return {
    verdict: unanswered === 0 ? 'pass' : 'fail',
    reason:
      unanswered === 0
        ? `${restarted}; kept answering when its dependency was killed (${killed}): ${String(measurement.requests)} answers, ${String(measurement.non2xx)} of them HTTP errors`
        : `${restarted}, but ${String(unanswered)} requests got no answer after its dependency was killed (${killed}); it must answer, with an HTTP error if need be`,
    details,
    table,
    tool,
  };
}

export const chaosGate = createChaosGate();
