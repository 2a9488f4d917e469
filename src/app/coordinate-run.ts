import {
  CoordinatorLock,
  GitRemoteSync,
  hasRemote,
  MergeCoordinator,
  RemoteMerger,
  RemoteRetry,
} from '../distributed/index.ts';
import { usageError } from '../errors/index.ts';
import type { AttachDistributedMerging } from '../orchestrator/index.ts';
import type { Store } from '../store/index.ts';
import { isInsideGitWorkTree } from '../workspace/index.ts';

/**
 * `loki run|resume --repo GIT_URL` (a distributed run) needs a shared store and is started in a
 * clone of the remote: refused before anything is written otherwise.
 */
export async function checkCoordinatorWorkspace(
  cwd: string,
  repoUrl: string,
  storeUrl: string,
): Promise<void> {
  if (storeUrl === '') {
    throw usageError(
      'RUN_REPO_NEEDS_STORE',
      '--repo shares the run with workers on other machines through a PostgreSQL store: add --store postgres://USER:PASSWORD@HOST:PORT/DATABASE (or LOKI_STORE_URL)',
    );
  }
  if (!isInsideGitWorkTree(cwd) || !(await hasRemote(cwd, repoUrl))) {
    throw usageError(
      'RUN_NOT_A_CLONE',
      `${cwd} is not a clone of ${repoUrl}; run the coordinator in one: git clone ${repoUrl} <dir> && cd <dir>`,
    );
  }
}

/**
 * The merge coordinator's lock for the run: taken at once, or after waiting for the coordinator
 * that holds it (`onWaiting` says so once) to end.
 */
export function takeCoordinatorLock(options: {
  storeUrl: string;
  runId: string;
  onWaiting: () => void;
  signal?: AbortSignal;
}): Promise<CoordinatorLock> {
  return CoordinatorLock.acquire({
    storeUrl: options.storeUrl,
    runId: options.runId,
    onWaiting: options.onWaiting,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

/**
 * What the run's pipeline merges with on a distributed run: the merge coordinator (this process
 * holds its lock) deciding every request with the run's merge queue, and the run's own task workers
 * going through the same request path as workers on other machines, so one code path merges.
 */
export function coordinatorMerging(options: {
  store: Store;
  queue: ConstructorParameters<typeof MergeCoordinator>[0]['queue'];
  root: string;
  repoUrl: string;
  lock: CoordinatorLock;
  /** The run's signal: the coordinator stops with the run. */
  signal: AbortSignal;
  /** A failure the coordinator cannot get past: the run stops with it. */
  onFatal: (error: unknown) => void;
  /** Told when the run's own task workers cannot reach the remote past their retries. */
  warn?: (text: string) => void;
}): AttachDistributedMerging {
  return ({ mergeQueue, runId, mainBranch }) => {
    const retry = new RemoteRetry({
      remoteUrl: options.repoUrl,
      ...(options.warn === undefined ? {} : { onUnavailable: options.warn }),
    });
    const closing = new AbortController();
    const coordinator = new MergeCoordinator({
      store: options.store,
      queue: options.queue,
      runId,
      repositoryRoot: options.root,
      remoteUrl: options.repoUrl,
      mainBranch,
      mergeQueue,
      signal: AbortSignal.any([options.signal, options.lock.lost, closing.signal]),
      onFatal: options.onFatal,
    });
    coordinator.start();
    return {
      merger: new RemoteMerger({
        repositoryRoot: options.root,
        remoteUrl: options.repoUrl,
        store: options.store,
        runId,
        retry,
      }),
      remote: new GitRemoteSync({
        repositoryRoot: options.root,
        remoteUrl: options.repoUrl,
        mainBranch,
        followMain: false,
        retry,
      }),
      close: async () => {
        closing.abort();
        await coordinator.stopped();
      },
    };
  };
}
