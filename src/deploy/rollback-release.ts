import { LokiError, usageError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import { listReleases, type ReleaseRecord } from './release-history.ts';
import type { DeployTarget, RollbackOutcome } from './target.ts';

export interface RollbackRequest {
  store: Store;
  target: DeployTarget;
  /** The release to go back to; null: the latest release before the one serving that was live once. */
  toVersion: string | null;
  signal?: AbortSignal;
}

export interface RollbackResult extends RollbackOutcome {
  fromVersion: string | null;
}

/** `loki rollback`: traffic back to an earlier healthy release, recorded as `release.rolled_back`. */
export async function rollbackRelease(request: RollbackRequest): Promise<RollbackResult> {
  const { target, store } = request;
  const releases = (await listReleases(store)).filter((release) => release.target === target.name);
  const fromVersion = (await target.status(request.signal)).activeVersion;
  const chosen =
    request.toVersion === null
      ? previousHealthy(releases, fromVersion)
      : releases.find((release) => release.version === request.toVersion);
  if (chosen === undefined) {
    throw request.toVersion === null
      ? usageError(
          'DEPLOY_NOTHING_TO_ROLL_BACK_TO',
          `No earlier healthy release of the ${target.name} target to roll back to; see loki deployments`,
        )
      : usageError(
          'DEPLOY_RELEASE_UNKNOWN',
          `There is no release ${request.toVersion} of the ${target.name} target; see loki deployments`,
        );
  }
  if (chosen.deployedAt === null) {
    throw usageError(
      'DEPLOY_RELEASE_NEVER_LIVE',
      `${chosen.version} never passed its checks (${chosen.status}); pick a release that was live (loki deployments)`,
    );
  }
  const outcome = await target.rollback(
    {
      version: chosen.version,
      commit: chosen.commit,
      directory: chosen.directory,
      startCommand: chosen.startCommand,
      healthPath: chosen.healthPath,
      probePaths: [chosen.healthPath],
    },
    request.signal,
  );
  await store.appendEvent({
    type: 'release.rolled_back',
    runId: null,
    taskId: null,
    data: {
      target: target.name,
      fromVersion: fromVersion === chosen.version ? null : fromVersion,
      toVersion: chosen.version,
      url: outcome.url,
      wasWarm: outcome.wasWarm,
    },
  });
  return { ...outcome, fromVersion };
}

/** The newest release older than the serving one that was live once and was not rolled back from. */
function previousHealthy(
  releases: readonly ReleaseRecord[],
  current: string | null,
): ReleaseRecord | undefined {
  const currentIndex =
    current === null ? releases.length : releases.findIndex((release) => release.version === current);
  if (currentIndex < 0) {
    throw new LokiError(`The target serves ${String(current)}, which is not in the store's release history`, {
      code: 'DEPLOY_HISTORY_MISMATCH',
      category: 'internal',
    });
  }
  return releases
    .slice(0, currentIndex)
    .reverse()
    .find((release) => release.deployedAt !== null && release.status !== 'rolled_back');
}
