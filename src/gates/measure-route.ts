import type { Result } from 'autocannon';

/** What autocannon saw on one route: the evidence of the performance, load and chaos gates. */
export interface RouteMeasurement {
  route: string;
  /** Requests answered (any status). */
  requests: number;
  p50Milliseconds: number;
  p99Milliseconds: number;
  /** Connection errors and timeouts: no HTTP answer at all. */
  errors: number;
  timeouts: number;
  /** Answers with a status outside 2xx. */
  non2xx: number;
  requestsPerSecond: number;
}

export interface MeasureRouteOptions {
  durationSeconds: number;
  connections: number;
  /** Requests per second across all connections; unlimited when absent. */
  overallRate?: number;
  /** Seconds before a request counts as a timeout. */
  requestTimeoutSeconds?: number;
  signal?: AbortSignal;
  /** Seconds of traffic before the measured run, not counted: steady state, not the cold start. */
  warmupSeconds?: number;
  /** Called on the first HTTP answer (the chaos gate cuts dependencies once traffic flows). */
  onFirstResponse?: () => void;
}

/**
 * autocannon against one route of the app under test, from Loki's side of the bridge. Its
 * latency includes the bridge's two local hops (Loki's TCP port, the supervisor's unix socket):
 * a real product's users have a network in between too.
 */
export async function measureRoute(
  baseUrl: string,
  route: string,
  options: MeasureRouteOptions,
): Promise<RouteMeasurement> {
  if (options.warmupSeconds !== undefined && options.warmupSeconds > 0) {
    await runAutocannon(baseUrl + route, {
      ...options,
      durationSeconds: options.warmupSeconds,
      onFirstResponse: undefined,
    });
  }
  const result = await runAutocannon(baseUrl + route, options);
  options.signal?.throwIfAborted();
  return {
    route,
    requests: result.requests.total,
    p50Milliseconds: result.latency.p50,
    p99Milliseconds: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    requestsPerSecond: Math.round((result.requests.total / Math.max(result.duration, 0.001)) * 10) / 10,
  };
}

async function runAutocannon(url: string, options: MeasureRouteOptions): Promise<Result> {
  options.signal?.throwIfAborted();
  // Imported when a gate measures, not with the CLI: every loki command would pay for loading it.
  const { default: autocannon } = await import('autocannon');
  options.signal?.throwIfAborted();
  return new Promise<Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: options.requestTimeoutSeconds ?? 10,
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
      },
      (error, finished) => {
        options.signal?.removeEventListener('abort', stop);
        if (error === null) resolve(finished);
        else reject(error);
      },
    );
    const stop = () => instance.stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.onFirstResponse !== undefined) instance.once('response', options.onFirstResponse);
  });
}

/** `1 route`, `3 routes`. */
export function countOf(count: number, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
}

/** The evidence table, as text for people and as rows for the report. */
export function formatMeasurements(measurements: readonly RouteMeasurement[]): string {
  const header = 'route | requests | req/s | p50 ms | p99 ms | errors | timeouts | non-2xx';
  const rows = measurements.map((each) =>
    [
      each.route,
      each.requests,
      each.requestsPerSecond,
      each.p50Milliseconds,
      each.p99Milliseconds,
      each.errors,
      each.timeouts,
      each.non2xx,
    ].join(' | '),
  );
  return [header, ...rows].join('\n');
}
