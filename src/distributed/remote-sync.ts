import { taskBranchName } from '../git/index.ts';
import type { RemoteSync } from '../orchestrator/index.ts';
import { fetchRemoteRefs, isAncestor, listRemoteRefs, localCommit, moveRef } from './remote-git.ts';

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
}

/**
 * Keeps a clone's main and task branches in step with the shared remote before a task is worked on
 * (see RemoteSync).
 */
export class GitRemoteSync implements RemoteSync {
  readonly #options: GitRemoteSyncOptions;

  constructor(options: GitRemoteSyncOptions) {
    this.#options = options;
  }

  async prepareTask(taskId: string, signal: AbortSignal): Promise<void> {
    const { repositoryRoot: root, remoteUrl: url, mainBranch } = this.#options;
    const mainRef = `refs/heads/${mainBranch}`;
    const branchRef = `refs/heads/${taskBranchName(taskId)}`;
    const wanted = this.#options.followMain ? [mainRef, branchRef] : [branchRef];
    const onRemote = await listRemoteRefs(root, url, wanted, signal);
    const fetched = await fetchRemoteRefs(root, url, [...onRemote.keys()], signal);
    let hasMainMoved = false;
    for (const [ref, remoteCommit] of onRemote) {
      const target = fetched.get(ref);
      if (target === undefined) continue;
      if (await this.#moveForward(ref, remoteCommit, signal)) hasMainMoved ||= ref === mainRef;
    }
    if (hasMainMoved) await this.#options.onMainMoved?.();
  }

  /**
   * Moves local `ref` to `commit` unless the local ref already holds it (equal, or ahead with a
   * checkpoint this machine never pushed); a diverged local branch gives way to the remote's, the
   * latest work of whoever held the task last. True when it moved.
   */
  async #moveForward(ref: string, commit: string, signal: AbortSignal): Promise<boolean> {
    const root = this.#options.repositoryRoot;
    const local = await localCommit(root, ref, signal);
    if (local === commit) return false;
    if (local !== null && (await isAncestor(root, commit, local, signal))) return false;
    await moveRef(root, ref, commit, local, signal);
    return true;
  }
}
