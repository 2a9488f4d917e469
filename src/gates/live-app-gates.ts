import type { GatesConfig } from '../config/index.ts';
import { type AccessibilityGateOptions, checkAccessibility } from './accessibility-gate.ts';
import { mainRoutes } from './app-launch.ts';
import type { GateVerdict } from './gate.ts';
import {
  DEFAULT_PERFORMANCE_OPTIONS,
  measurePerformance,
  type PerformanceGateOptions,
  withThresholds,
} from './performance-gate.ts';
import type { AppGateJudgement } from './run-app-gate.ts';

/** The gates that judge a running app and can judge one Loki did not start: a deployed release. */
export const LIVE_APP_GATES = ['performance', 'accessibility'] as const;
export type LiveAppGate = (typeof LIVE_APP_GATES)[number];

/** One gate's verdict on a release's URL, in the shape of a post-deploy check. */
export interface LiveGateCheck {
  name: LiveAppGate;
  verdict: GateVerdict;
  detail: string;
}

/** One post-deploy check: the URL where the release answers → its verdicts. */
export type LiveGate = (url: string, signal: AbortSignal) => Promise<LiveGateCheck[]>;

export interface LiveAppGatesOptions {
  /** gates.yaml as read: its `deployment` stage, `nonBlocking` list and thresholds. */
  config: Pick<GatesConfig, 'stages' | 'nonBlocking' | 'thresholds'>;
  /** The release's health path and its smoke paths (GETs of its OpenAPI document). */
  healthPath: string;
  smokePaths: readonly string[];
  performance?: Partial<PerformanceGateOptions>;
  accessibility?: Partial<AccessibilityGateOptions>;
}

/**
 * The performance and accessibility gates as post-deploy checks of a release, with the thresholds
 * of gates.yaml: those of the `deployment` stage that block (a gate the user made non-blocking is
 * reported at QA and never rolls a release back, so it is not run here). The routes are the
 * gates' usual ones: `/`, the health path and the smoke paths.
 */
export function createLiveAppGates(options: LiveAppGatesOptions): LiveGate[] {
  const { config } = options;
  const chosen = LIVE_APP_GATES.filter(
    (gate) => config.stages.deployment.includes(gate) && !config.nonBlocking.includes(gate),
  );
  const routes = mainRoutes(options.healthPath, options.smokePaths);
  const performance = withThresholds(
    { ...DEFAULT_PERFORMANCE_OPTIONS, ...options.performance },
    config.thresholds,
  );
  const judges: Record<LiveAppGate, (url: string, signal: AbortSignal) => Promise<AppGateJudgement>> = {
    performance: (url, signal) => measurePerformance(url, routes, performance, signal),
    accessibility: (url) => checkAccessibility(url, routes, options.accessibility),
  };
  return chosen.map((gate) => async (url, signal) => [await judgeLive(gate, judges[gate], url, signal)]);
}

/**
 * A gate that could not measure (Chromium would not start, the tool threw) has no verdict on the
 * release: not proven, with the reason, so a broken tool never rolls back a good release. An abort
 * is the caller's and goes on.
 */
async function judgeLive(
  gate: LiveAppGate,
  judge: (url: string, signal: AbortSignal) => Promise<AppGateJudgement>,
  url: string,
  signal: AbortSignal,
): Promise<LiveGateCheck> {
  try {
    const judgement = await judge(url, signal);
    return { name: gate, verdict: judgement.verdict, detail: judgement.reason };
  } catch (error) {
    if (signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return { name: gate, verdict: 'not-proven', detail: `could not be measured: ${message}` };
  }
}
