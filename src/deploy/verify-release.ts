import { setTimeout as delay } from 'node:timers/promises';
import type { DeployCheck, VerifyRelease } from './target.ts';

export interface ReleaseVerification {
  healthPath: string;
  /** GET paths from the OpenAPI document (see smokePathsFromOpenApi). */
  smokePaths: readonly string[];
  /** How long a new release has to answer its health path. */
  healthDeadlineMilliseconds?: number;
  /**
   * More checks against the same URL after health and smoke passed: the performance and
   * accessibility gates plug in here. Each returns its own checks; a `fail` rolls the release back.
   */
  extraChecks?: readonly VerifyRelease[];
}

const DEFAULT_HEALTH_DEADLINE_MILLISECONDS = 30_000;

/**
 * Post-deploy verification, the same for every target: the health path answers 2xx (polled until
 * the deadline: the release may still be starting), then one GET per smoke path answers without a
 * server error, then the extra checks. Stops at the first failure.
 */
export function createReleaseVerifier(verification: ReleaseVerification): VerifyRelease {
  return async (url, signal) => {
    const checks: DeployCheck[] = [await checkHealthPath(url, verification, signal)];
    if (checks[0]?.verdict !== 'pass') return checks;
    for (const path of verification.smokePaths) {
      const check = await smokeRequest(url, path, signal);
      checks.push(check);
      if (check.verdict === 'fail') return checks;
    }
    for (const extra of verification.extraChecks ?? []) {
      const results = await extra(url, signal);
      checks.push(...results);
      if (results.some((check) => check.verdict === 'fail')) return checks;
    }
    return checks;
  };
}

async function checkHealthPath(
  url: string,
  verification: ReleaseVerification,
  signal: AbortSignal,
): Promise<DeployCheck> {
  const deadline =
    Date.now() + (verification.healthDeadlineMilliseconds ?? DEFAULT_HEALTH_DEADLINE_MILLISECONDS);
  const target = `${url}${verification.healthPath}`;
  let last = 'no answer';
  for (;;) {
    signal.throwIfAborted();
    try {
      const response = await fetch(target, {
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(2_000)]),
      });
      await response.body?.cancel();
      if (response.ok)
        return {
          name: 'health',
          verdict: 'pass',
          detail: `GET ${verification.healthPath} → ${String(response.status)}`,
        };
      last = String(response.status);
    } catch (error) {
      if (signal.aborted) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      return {
        name: 'health',
        verdict: 'fail',
        detail: `GET ${verification.healthPath} gave no 2xx before the deadline (last: ${last})`,
      };
    }
    await delay(100, undefined, { signal });
  }
}

/** Passes on 2xx/3xx, and on 401/403 (the route exists behind authentication); fails otherwise. */
async function smokeRequest(url: string, path: string, signal: AbortSignal): Promise<DeployCheck> {
  const name = `smoke GET ${path}`;
  try {
    const response = await fetch(`${url}${path}`, {
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    });
    await response.body?.cancel();
    const status = response.status;
    const passed = status < 400 || status === 401 || status === 403;
    return { name, verdict: passed ? 'pass' : 'fail', detail: `GET ${path} → ${String(status)}` };
  } catch (error) {
    if (signal.aborted) throw error;
    return {
      name,
      verdict: 'fail',
      detail: `GET ${path} got no answer: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
