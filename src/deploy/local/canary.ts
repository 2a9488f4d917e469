import type { CanaryStepReport, Release, TrafficSample } from '../target.ts';
import type { SupervisorClient } from './supervisor-client.ts';

/** When a canary is rolled back: measured per step against the release it would replace. */
export interface CanaryThresholds {
  /** Shares of requests the canary gets, in order; the last step (100) is the switch itself. */
  steps: readonly number[];
  /** Rolled back when its error rate exceeds the baseline's by more than this (0.05 = 5 points). */
  maxErrorRateIncrease: number;
  /** Rolled back when its median latency exceeds the baseline's times this, plus `latencySlackMilliseconds`. */
  maxLatencyRatio: number;
  latencySlackMilliseconds: number;
  /** Requests the canary must have answered before a step is judged. */
  minimumRequests: number;
  /** Loki's own probe requests per step at most (real traffic counts too). */
  maxProbeRequests: number;
}

export const DEFAULT_CANARY_THRESHOLDS: CanaryThresholds = {
  steps: [10, 50, 100],
  maxErrorRateIncrease: 0.05,
  maxLatencyRatio: 3,
  latencySlackMilliseconds: 50,
  minimumRequests: 20,
  maxProbeRequests: 2_000,
};

export interface CanaryOutcome {
  passed: boolean;
  steps: CanaryStepReport[];
  reason: string | null;
}

/**
 * Walks the canary's steps below 100 %: routes the share to the new release, sends probe requests
 * through the proxy (with whatever real traffic arrives) until the canary has answered enough of
 * them, and compares error rate and median latency with the baseline. The caller switches fully
 * when all steps passed, and routes back when one did not.
 */
export async function watchCanary(parameters: {
  client: SupervisorClient;
  proxyUrl: string;
  release: Release;
  baselineVersion: string;
  thresholds: CanaryThresholds;
  signal: AbortSignal;
  onProgress: (message: string) => void;
}): Promise<CanaryOutcome> {
  const { client, release, baselineVersion, thresholds } = parameters;
  const steps: CanaryStepReport[] = [];
  for (const percent of thresholds.steps.filter((step) => step < 100)) {
    await client.setRoute({ active: baselineVersion, canary: { version: release.version, percent } });
    await client.resetTraffic();
    parameters.onProgress(`canary ${release.version} takes ${String(percent)} % of requests`);
    const traffic = await probeUntilMeasured(parameters, release.version);
    const candidate = traffic[release.version] ?? emptySample();
    const baseline = traffic[baselineVersion] ?? emptySample();
    const failure = judge(candidate, baseline, thresholds);
    steps.push({ percent, candidate, baseline, passed: failure === null });
    if (failure !== null)
      return { passed: false, steps, reason: `canary at ${String(percent)} %: ${failure}` };
  }
  return { passed: true, steps, reason: null };
}

async function probeUntilMeasured(
  parameters: Parameters<typeof watchCanary>[0],
  candidateVersion: string,
): Promise<Record<string, TrafficSample>> {
  const paths = parameters.release.probePaths.length > 0 ? parameters.release.probePaths : ['/'];
  for (let sent = 0; sent < parameters.thresholds.maxProbeRequests; sent += 1) {
    parameters.signal.throwIfAborted();
    const path = paths[sent % paths.length] ?? '/';
    try {
      const response = await fetch(`${parameters.proxyUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
    } catch {
      // The proxy counts a request that got no answer as an error of the release it chose; the
      // probe itself only needs to have sent it.
    }
    if (sent % 10 === 9) {
      const traffic = (await parameters.client.status())?.traffic ?? {};
      if ((traffic[candidateVersion]?.requests ?? 0) >= parameters.thresholds.minimumRequests) return traffic;
    }
  }
  return (await parameters.client.status())?.traffic ?? {};
}

/** Null when the candidate is within the thresholds, else why not. */
export function judge(
  candidate: TrafficSample,
  baseline: TrafficSample,
  thresholds: CanaryThresholds,
): string | null {
  if (candidate.requests < thresholds.minimumRequests) {
    return `only ${String(candidate.requests)} request(s) reached it (at least ${String(thresholds.minimumRequests)} needed to judge)`;
  }
  const candidateRate = candidate.errors / candidate.requests;
  const baselineRate = baseline.requests === 0 ? 0 : baseline.errors / baseline.requests;
  if (candidateRate - baselineRate > thresholds.maxErrorRateIncrease) {
    return `error rate ${percentText(candidateRate)} against ${percentText(baselineRate)} for the release it would replace (at most ${percentText(thresholds.maxErrorRateIncrease)} more allowed)`;
  }
  const candidateLatency = candidate.medianLatencyMilliseconds;
  const baselineLatency = baseline.medianLatencyMilliseconds;
  if (
    candidateLatency !== null &&
    baselineLatency !== null &&
    candidateLatency > baselineLatency * thresholds.maxLatencyRatio + thresholds.latencySlackMilliseconds
  ) {
    return `median latency ${candidateLatency.toFixed(1)} ms against ${baselineLatency.toFixed(1)} ms (at most ${String(thresholds.maxLatencyRatio)}× + ${String(thresholds.latencySlackMilliseconds)} ms allowed)`;
  }
  return null;
}

function percentText(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

function emptySample(): TrafficSample {
  return { requests: 0, errors: 0, medianLatencyMilliseconds: null };
}
