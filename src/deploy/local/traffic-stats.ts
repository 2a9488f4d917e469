import type { TrafficSample } from '../target.ts';

/** Latencies kept per version: enough for a median, bounded so a long-lived proxy does not grow. */
const MAX_LATENCIES = 5_000;

/** What the proxy saw per release since the last reset: requests, errors (5xx or no answer), latency. */
export class TrafficStats {
  private readonly byVersion = new Map<string, { requests: number; errors: number; latencies: number[] }>();

  record(version: string, isError: boolean, latencyMilliseconds: number): void {
    let entry = this.byVersion.get(version);
    if (entry === undefined) {
      entry = { requests: 0, errors: 0, latencies: [] };
      this.byVersion.set(version, entry);
    }
    entry.requests += 1;
    if (isError) entry.errors += 1;
    if (entry.latencies.length < MAX_LATENCIES) entry.latencies.push(latencyMilliseconds);
  }

  reset(): void {
    this.byVersion.clear();
  }

  snapshot(): Record<string, TrafficSample> {
    const result: Record<string, TrafficSample> = {};
    for (const [version, entry] of this.byVersion) {
      const sorted = [...entry.latencies].sort((left, right) => left - right);
      const median = sorted.length === 0 ? null : (sorted[Math.floor(sorted.length / 2)] ?? null);
      result[version] = { requests: entry.requests, errors: entry.errors, medianLatencyMilliseconds: median };
    }
    return result;
  }
}
