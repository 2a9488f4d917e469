import { setTimeout as delay } from 'node:timers/promises';
import { isLokiError } from '../../errors/index.ts';
import type { CloudTarget, Release, RollbackResult } from './cloud-target.ts';

/**
 * The evidence of one deployment, in the verdicts verification uses everywhere: `pass` (live and
 * checked), `fail` (refused or failed its checks; rolled back where something had gone live) or
 * `not-proven` (the target cannot run here, with the reason).
 */
export type DeploymentVerdict =
  | { verdict: 'pass'; url: string; checks: string[] }
  | { verdict: 'fail'; reason: string; url?: string; rollback: RollbackResult }
  | { verdict: 'not-proven'; reason: string };

/** A post-deploy check beyond health (smoke requests, performance...): ok, or why not. */
export type PostDeployCheck = (url: string, signal?: AbortSignal) => Promise<{ ok: boolean; detail: string }>;

export interface DeployAndVerifyOptions {
  target: CloudTarget;
  release: Release;
  healthPath: string;
  /** Injected so tests and proxies decide; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** The health check polls until a 2xx or this many attempts (platforms take a while to route). */
  healthAttempts?: number;
  healthIntervalMilliseconds?: number;
  checks?: readonly PostDeployCheck[];
  signal?: AbortSignal;
}

/** Detect → deploy → health and checks on the live URL → rollback on any failure. */
export async function deployAndVerify(options: DeployAndVerifyOptions): Promise<DeploymentVerdict> {
  const { target, release, signal } = options;
  const detection = await target.detect();
  if (!detection.usable) return { verdict: 'not-proven', reason: `${target.name}: ${detection.reason}` };
  let url: string;
  try {
    url = (await target.deploy(release, signal)).url;
  } catch (error) {
    if (!isLokiError(error)) throw error;
    return { verdict: 'fail', reason: error.message, rollback: await rollBack(target, signal) };
  }
  const health = await checkHealth(url, options);
  const results = [health];
  for (const check of health.ok ? (options.checks ?? []) : []) {
    const result = await check(url, signal);
    results.push(result);
    if (!result.ok) break;
  }
  const failed = results.find((result) => !result.ok);
  if (failed === undefined) return { verdict: 'pass', url, checks: results.map((result) => result.detail) };
  return { verdict: 'fail', reason: failed.detail, url, rollback: await rollBack(target, signal) };
}

/**
 * A rollback that fails is reported in the verdict (with the CLI's reason), not thrown: the caller
 * must learn both that the release failed and that the old one may not be serving.
 */
async function rollBack(target: CloudTarget, signal: AbortSignal | undefined): Promise<RollbackResult> {
  try {
    return await target.rollback(signal);
  } catch (error) {
    if (!isLokiError(error)) throw error;
    return { rolledBack: false, detail: `rollback failed: ${error.message}` };
  }
}

async function checkHealth(
  url: string,
  options: DeployAndVerifyOptions,
): Promise<{ ok: boolean; detail: string }> {
  const healthUrl = new URL(options.healthPath, url).toString();
  const request = options.fetch ?? fetch;
  const attempts = options.healthAttempts ?? 30;
  let last = 'no attempt made';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await request(healthUrl, { signal: options.signal ?? null, redirect: 'manual' });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) {
        return { ok: true, detail: `health ${healthUrl} answered ${response.status}` };
      }
      last = `answered ${response.status}`;
    } catch (error) {
      options.signal?.throwIfAborted();
      last = `failed: ${error instanceof Error ? describeFetchError(error) : String(error)}`;
    }
    if (attempt < attempts)
      await delay(options.healthIntervalMilliseconds ?? 2000, undefined, { signal: options.signal });
  }
  return { ok: false, detail: `health check ${healthUrl} ${last} (after ${attempts} attempts)` };
}

/** fetch's own message is "fetch failed"; the reason (ECONNREFUSED...) is on its cause. */
function describeFetchError(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error)
    return `${error.message} (${'code' in cause ? String(cause.code) : cause.message})`;
  return error.message;
}
