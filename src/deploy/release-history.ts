import type { LokiEvent } from '../events/index.ts';
import type { Store } from '../store/index.ts';

/** A release as `loki deployments` shows it, folded from its events (the store keeps them). */
export interface ReleaseRecord {
  version: string;
  commit: string;
  target: string;
  directory: string;
  startCommand: string;
  healthPath: string;
  /**
   * built: not deployed (yet). live: serving. superseded: a later release replaced it (kept warm
   * or stopped, or left by `loki rollback --to` a newer one). rolled_back: it failed its checks or
   * canary, or `loki rollback` went back from it to an older release. failed: it could not be built or started. stopped: `loki deploy stop` ended it.
   * not_proven: its target cannot deploy from this machine (the reason says what is missing).
   */
  status: 'built' | 'live' | 'superseded' | 'rolled_back' | 'failed' | 'stopped' | 'not_proven';
  url: string | null;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
  /** When it last became live, or null. */
  deployedAt: number | null;
}

export const RELEASE_EVENT_TYPES = [
  'release.built',
  'release.deployed',
  'release.rolled_back',
  'deployment.stopped',
] as const;

/**
 * Releases in version order. One writer per fact: these four events, appended by the deploy
 * service, are the record; the list is their fold, so a release's history cannot disagree with it.
 */
export async function listReleases(store: Store): Promise<ReleaseRecord[]> {
  return foldReleases(await store.listEvents({ types: RELEASE_EVENT_TYPES }));
}

export function foldReleases(events: readonly LokiEvent[]): ReleaseRecord[] {
  const releases = new Map<string, ReleaseRecord>();
  const setLive = (version: string, at: number, url: string | null): void => {
    for (const other of releases.values()) {
      if (other.status === 'live' && other.version !== version) {
        other.status = 'superseded';
        other.updatedAt = at;
      }
    }
    const release = releases.get(version);
    if (release === undefined) return;
    Object.assign(release, { status: 'live', url, reason: null, updatedAt: at, deployedAt: at });
  };
  for (const event of events) {
    const at = event.createdAt;
    if (event.type === 'release.built') {
      const { version, commit, target, directory, startCommand, healthPath } = event.data;
      releases.set(version, {
        version,
        commit,
        target,
        directory,
        startCommand,
        healthPath,
        status: 'built',
        url: null,
        reason: null,
        createdAt: at,
        updatedAt: at,
        deployedAt: null,
      });
    } else if (event.type === 'release.deployed') {
      const release = releases.get(event.data.version);
      if (event.data.status === 'live') setLive(event.data.version, at, event.data.url);
      else if (release !== undefined) {
        Object.assign(release, { status: event.data.status, reason: event.data.reason, updatedAt: at });
      }
    } else if (event.type === 'release.rolled_back') {
      const from = event.data.fromVersion === null ? undefined : releases.get(event.data.fromVersion);
      setLive(event.data.toVersion, at, event.data.url);
      // Back to an older release: the one left is the suspect, and a plain rollback skips it. Forward
      // to a newer one (`--to`): the one left did nothing wrong and stays a release to go back to.
      const isForward = versionNumber(event.data.toVersion) > versionNumber(from?.version ?? '');
      if (from !== undefined && !isForward)
        Object.assign(from, {
          status: 'rolled_back',
          reason: `rolled back to ${event.data.toVersion}`,
          updatedAt: at,
        });
    } else if (event.type === 'deployment.stopped') {
      for (const release of releases.values()) {
        if (release.status === 'live') Object.assign(release, { status: 'stopped', updatedAt: at });
      }
    }
  }
  return [...releases.values()].sort(
    (left, right) => versionNumber(left.version) - versionNumber(right.version),
  );
}

/** The version after the highest one recorded: v1, v2, ... */
export function nextVersion(releases: readonly ReleaseRecord[]): string {
  const highest = releases.reduce((maximum, release) => Math.max(maximum, versionNumber(release.version)), 0);
  return `v${String(highest + 1)}`;
}

export function versionNumber(version: string): number {
  return Number(/^v(\d+)$/.exec(version)?.[1] ?? 0);
}
