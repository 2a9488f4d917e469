import type { Gate } from './gate.ts';
import { countOf, formatMeasurements, measureRoute, type RouteMeasurement } from './measure-route.ts';
import { DEFAULT_STARTUP_TIMEOUT_MILLISECONDS, runAppGate } from './run-app-gate.ts';

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
      // The threshold of .loki/config/gates.yaml, when the run has one, wins over the default.
      const maximum = context.thresholds?.maximumP99Milliseconds;
      const options = maximum === undefined ? described : { ...described, maxP99Milliseconds: maximum };
      return runAppGate(context, 'performance', options.startupTimeoutMilliseconds, async (app, launch) => {
        const measurements: RouteMeasurement[] = [];
        for (const route of launch.routes) {
          measurements.push(
            await measureRoute(app.url, route, {
              durationSeconds: options.durationSeconds,
              connections: options.connections,
              warmupSeconds: options.warmupSeconds,
              ...(context.signal === undefined ? {} : { signal: context.signal }),
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
      });
    },
  };
}

export const performanceGate = createPerformanceGate();
