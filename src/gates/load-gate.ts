import type { Gate, GateContext, GateRecord } from './gate.ts';
import { countOf, formatMeasurements, measureRoute, type RouteMeasurement } from './measure-route.ts';
import { MEASUREMENT_COLUMNS, measurementRows } from './performance-gate.ts';
import { DEFAULT_STARTUP_TIMEOUT_MILLISECONDS, runAppGate } from './run-app-gate.ts';

export interface LoadGateOptions {
  /** The traffic the product expects, in requests per second (a small product's: 10). */
  expectedRequestsPerSecond: number;
  /** The load is this many times the expected traffic (the design's: 10). */
  multiplier: number;
  /** At most this share of requests may fail (no answer, or a status outside 2xx). */
  maxErrorRate: number;
  /** Each route's p99 latency under load must stay below it. */
  maxP99Milliseconds: number;
  /** The app must serve at least this share of the asked rate (it may not just fall behind). */
  minServedShare: number;
  durationSeconds: number;
  startupTimeoutMilliseconds: number;
}

export const DEFAULT_LOAD_OPTIONS: LoadGateOptions = {
  expectedRequestsPerSecond: 10,
  multiplier: 10,
  maxErrorRate: 0.01,
  maxP99Milliseconds: 1_000,
  minServedShare: 0.8,
  durationSeconds: 5,
  startupTimeoutMilliseconds: DEFAULT_STARTUP_TIMEOUT_MILLISECONDS,
};

/** Enough connections that the rate is not limited by the client while the app answers in time. */
const CONNECTIONS_PER_HUNDRED_RPS = 20;

/**
 * Load: each main route in turn at ten times the expected traffic (autocannon at a fixed overall
 * rate, latencies corrected for coordinated omission); the error rate, the p99 latency and the
 * rate the app kept up with decide.
 */
export function createLoadGate(overrides: Partial<LoadGateOptions> = {}): Gate {
  const described = { ...DEFAULT_LOAD_OPTIONS, ...overrides };
  return {
    name: 'load',
    description: `${String(described.expectedRequestsPerSecond * described.multiplier)} requests/s (${String(described.multiplier)}× the expected traffic): error rate and p99 latency`,
    // The thresholds of .loki/config/gates.yaml, when the run has any, win over the defaults.
    run: (context) => runLoadGate(context, { ...described, ...loadThresholdsOf(context.thresholds) }),
  };
}

function loadThresholdsOf(thresholds: GateContext['thresholds']): Partial<LoadGateOptions> {
  return {
    ...(thresholds?.loadMultiplier === undefined ? {} : { multiplier: thresholds.loadMultiplier }),
    ...(thresholds?.expectedRequestsPerSecond === undefined
      ? {}
      : { expectedRequestsPerSecond: thresholds.expectedRequestsPerSecond }),
    ...(thresholds?.maximumErrorRatePercent === undefined
      ? {}
      : { maxErrorRate: thresholds.maximumErrorRatePercent / 100 }),
  };
}

function runLoadGate(context: GateContext, options: LoadGateOptions): Promise<GateRecord> {
  const rate = options.expectedRequestsPerSecond * options.multiplier;
  const connections = Math.max(10, Math.ceil((rate / 100) * CONNECTIONS_PER_HUNDRED_RPS));
  return runAppGate(context, 'load', options.startupTimeoutMilliseconds, async (app, launch) => {
    const measurements: RouteMeasurement[] = [];
    for (const route of launch.routes) {
      measurements.push(
        await measureRoute(app.url, route, {
          durationSeconds: options.durationSeconds,
          connections,
          overallRate: rate,
          ...(context.signal === undefined ? {} : { signal: context.signal }),
        }),
      );
    }
    const problems = measurements.flatMap((each) => loadProblems(each, rate, options));
    return {
      verdict: problems.length === 0 ? 'pass' : 'fail',
      reason:
        problems.length === 0
          ? `${String(rate)} requests/s on ${countOf(measurements.length, 'route')}: error rate at most ${percent(options.maxErrorRate)}, p99 below ${String(options.maxP99Milliseconds)} ms`
          : `under ${String(rate)} requests/s: ${problems.join('; ')}`,
      details: formatMeasurements(measurements),
      table: { columns: MEASUREMENT_COLUMNS, rows: measurementRows(measurements) },
      tool: `autocannon (${String(rate)} requests/s, ${String(connections)} connections, ${String(options.durationSeconds)} s per route)`,
    };
  });
}

function loadProblems(measurement: RouteMeasurement, rate: number, options: LoadGateOptions): string[] {
  const failed = measurement.errors + measurement.non2xx;
  const attempted = measurement.requests + measurement.errors;
  const errorRate = attempted === 0 ? 1 : failed / attempted;
  const problems: string[] = [];
  if (errorRate > options.maxErrorRate) {
    problems.push(
      `${measurement.route} failed ${percent(errorRate)} of requests (${String(measurement.non2xx)} non-2xx, ${String(measurement.errors)} without answer; at most ${percent(options.maxErrorRate)})`,
    );
  }
  if (measurement.p99Milliseconds >= options.maxP99Milliseconds) {
    problems.push(
      `${measurement.route} p99 ${String(measurement.p99Milliseconds)} ms (below ${String(options.maxP99Milliseconds)} ms)`,
    );
  }
  if (measurement.requestsPerSecond < rate * options.minServedShare) {
    problems.push(
      `${measurement.route} served ${String(measurement.requestsPerSecond)} requests/s of ${String(rate)}`,
    );
  }
  return problems;
}

function percent(share: number): string {
  return `${String(Math.round(share * 1000) / 10)} %`;
}

export const loadGate = createLoadGate();
