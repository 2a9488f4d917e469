import { taskBranchName } from '../git/index.ts';
import type { RemoteSync } from '../orchestrator/index.ts';
import {
  fetchRemoteRefs,
  hasReachableCommit,
  isAncestor,
  listRemoteRefs,
  localCommit,
  moveRef,
} from './remote-git.ts';
import { RemoteRetry } from './remote-retry.ts';

export interface GitRemoteSyncOptions {
  repositoryRoot: string;
  remoteUrl: string;
  mainBranch: string;
  /**
   * Bring local main to the remote's (a `loki worker`'s clone, where main is only ever the remote's).
   * The coordinator's clone is where main is made: it only fetches task branches.
   */
  followMain: boolean;
  /** Told when local main moved, so what main holds is read again. */
  onMainMoved?: () => Promise<void>;
  /** The clone's retries of git against the remote (shared with its RemoteMerger; default: its own). */
  retry?: RemoteRetry;
}

/**
 * Keeps a clone's main and task branches in step with the shared remote before a task is worked on
 * (see RemoteSync). One sync at a time per clone: tasks claimed together would otherwise fetch into
 * the same ref and move main at once, and git refuses the loser's ref lock (the task then failed).
 * Only what the clone lacks is fetched: an unmoved main costs one ls-remote. A sync that fails on
 * the remote (or on a ref lock) is done again from the start (it only moves refs forward to what
 * the remote has, so a half-done sync is safe to redo); see RemoteRetry for when it gives up.
 */
export class GitRemoteSync implements RemoteSync {
  readonly #options: GitRemoteSyncOptions;
  readonly #retry: RemoteRetry;
  #syncing: Promise<unknown> = Promise.resolve();

  constructor(options: GitRemoteSyncOptions) {
    this.#options = options;
    this.#retry = options.retry ?? new RemoteRetry({ remoteUrl: options.remoteUrl });
  }

  prepareTask(taskId: string, signal: AbortSignal): Promise<void> {
    const sync = this.#syncing.then(() => this.#retry.run(() => this.#sync(taskId, signal), signal));
    this.#syncing = sync.catch(() => undefined);
    return sync;
  }

  async #sync(taskId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { repositoryRoot: root, remoteUrl: url, mainBranch } = this.#options;
    const mainRef = `refs/heads/${mainBranch}`;
    const branchRef = `refs/heads/${taskBranchName(taskId)}`;
    const wanted = this.#options.followMain ? [mainRef, branchRef] : [branchRef];
    const onRemote = await listRemoteRefs(root, url, wanted, signal);
    const moves: { ref: string; commit: string; local: string | null }[] = [];
    for (const [ref, commit] of onRemote) {
      const local = await localCommit(root, ref, signal);
      if (local !== commit) moves.push({ ref, commit, local });
    }
    const missing: string[] = [];
    for (const { ref, commit } of moves) {
      if (!(await hasReachableCommit(root, commit, signal))) missing.push(ref);
    }
    await fetchRemoteRefs(root, url, missing, signal);
    let hasMainMoved = false;
    for (const move of moves) {
      if (await this.#moveForward(move, signal)) hasMainMoved ||= move.ref === mainRef;
    }
    if (hasMainMoved) await this.#options.onMainMoved?.();
  }

  /**
   * Moves local `ref` to `commit` unless the local ref already holds it (equal, or ahead with a
   * checkpoint this machine never pushed); a diverged local branch gives way to the remote's, the
   * latest work of whoever held the task last. True when it moved.
   */
  async #moveForward(
    { ref, commit, local }: { ref: string; commit: string; local: string | null },
    signal: AbortSignal,
  ): Promise<boolean> {
    const root = this.#options.repositoryRoot;
    if (local !== null && (await isAncestor(root, commit, local, signal))) return false;
    await moveRef(root, ref, commit, local, signal);
    return true;
  }
}
