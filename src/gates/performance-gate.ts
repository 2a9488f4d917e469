import type { GateThresholdSettings } from '../config/index.ts';
import type { Gate } from './gate.ts';
import { countOf, formatMeasurements, measureRoute, type RouteMeasurement } from './measure-route.ts';
import { type AppGateJudgement, DEFAULT_STARTUP_TIMEOUT_MILLISECONDS, runAppGate } from './run-app-gate.ts';

export interface PerformanceGateOptions {
  /** Each main route's p99 latency must stay below it (the design's default: 200 ms). */
  maxP99Milliseconds: number;
  /** How long autocannon drives each route. */
  durationSeconds: number;
  /** Concurrent connections per route. */
  connections: number;
  /** Unmeasured traffic first, per route: p99 is the steady state's, not the first JIT's. */
  warmupSeconds: number;
  startupTimeoutMilliseconds: number;
}

export const DEFAULT_PERFORMANCE_OPTIONS: PerformanceGateOptions = {
  maxP99Milliseconds: 200,
  durationSeconds: 3,
  connections: 10,
  warmupSeconds: 1,
  startupTimeoutMilliseconds: DEFAULT_STARTUP_TIMEOUT_MILLISECONDS,
};

export const MEASUREMENT_COLUMNS = [
  'route',
  'requests',
  'requestsPerSecond',
  'p50Milliseconds',
  'p99Milliseconds',
  'errors',
  'timeouts',
  'non2xx',
];

export function measurementRows(measurements: readonly RouteMeasurement[]): (string | number)[][] {
  return measurements.map((each) => [
    each.route,
    each.requests,
    each.requestsPerSecond,
    each.p50Milliseconds,
    each.p99Milliseconds,
    each.errors,
    each.timeouts,
    each.non2xx,
  ]);
}

/**
 * Performance: autocannon against each main route of the started app, one after another; every
 * route's p99 latency below the threshold, and every request answered (a route that only errors
 * is not fast).
 */
export function createPerformanceGate(overrides: Partial<PerformanceGateOptions> = {}): Gate {
  const described = { ...DEFAULT_PERFORMANCE_OPTIONS, ...overrides };
  return {
    name: 'performance',
    description: `p99 latency below ${String(described.maxP99Milliseconds)} ms on the app's main routes`,
    run: (context) => {
      const options = withThresholds(described, context.thresholds);
      return runAppGate(context, 'performance', options.startupTimeoutMilliseconds, (app, launch) =>
        measurePerformance(app.url, launch.routes, options, context.signal),
      );
    },
  };
}

/** The threshold of .loki/config/gates.yaml, when there is one, wins over the gate's default. */
export function withThresholds(
  options: PerformanceGateOptions,
  thresholds: GateThresholdSettings | undefined,
): PerformanceGateOptions {
  const maximum = thresholds?.maximumP99Milliseconds;
  return maximum === undefined ? options : { ...options, maxP99Milliseconds: maximum };
}

/**
 * The performance gate's judgement of the app answering at `url`, whoever started it: the gate's
 * own sandboxed copy, or a deployed release.
 */
export async function measurePerformance(
  url: string,
  routes: readonly string[],
  options: PerformanceGateOptions,
  signal: AbortSignal | undefined,
): Promise<AppGateJudgement> {
  const measurements: RouteMeasurement[] = [];
  for (const route of routes) {
    measurements.push(
      await measureRoute(url, route, {
        durationSeconds: options.durationSeconds,
        connections: options.connections,
        warmupSeconds: options.warmupSeconds,
        ...(signal === undefined ? {} : { signal }),
      }),
    );
  }
  const slow = measurements.filter((each) => each.p99Milliseconds >= options.maxP99Milliseconds);
  const unanswered = measurements.filter((each) => each.requests === 0 || each.errors > 0);
  const problems = [
    ...slow.map((each) => `${each.route} p99 ${String(each.p99Milliseconds)} ms`),
    ...unanswered.map((each) => `${each.route} ${String(each.errors)} connection errors`),
  ];
  const worst = Math.max(...measurements.map((each) => each.p99Milliseconds));
  return {
    verdict: problems.length === 0 ? 'pass' : 'fail',
    reason:
      problems.length === 0
        ? `p99 below ${String(options.maxP99Milliseconds)} ms on ${countOf(measurements.length, 'route')} (worst ${String(worst)} ms)`
        : `${problems.join('; ')} (p99 must stay below ${String(options.maxP99Milliseconds)} ms, every request answered)`,
    details: formatMeasurements(measurements),
    table: { columns: MEASUREMENT_COLUMNS, rows: measurementRows(measurements) },
    tool: `autocannon (${String(options.connections)} connections, ${String(options.durationSeconds)} s per route)`,
  };
}

export const performanceGate = createPerformanceGate();
