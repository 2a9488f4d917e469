import { LokiError } from '../errors/index.ts';
import { bringCheckedOutMainForward } from '../orchestrator/index.ts';
import { fetchRemoteRefs, isAncestor, listRemoteRefs, localCommit, moveRef, pushRef } from './remote-git.ts';

export interface CoordinatorMainOptions {
  repositoryRoot: string;
  remoteUrl: string;
  mainBranch: string;
  signal: AbortSignal;
}

/**
 * Puts the coordinator's main and the remote's in step when a coordinator takes over: the remote's
 * main is the truth. Behind it (another coordinator merged meanwhile): local main moves forward,
 * with the checkout that has it. Ahead of it (this clone's first commit, or a merge made here and
 * never pushed): it is pushed, plainly. Diverged: refused, for a person to look at.
 */
export async function syncCoordinatorMain(
  options: CoordinatorMainOptions,
): Promise<'same' | 'pulled' | 'pushed'> {
  const { repositoryRoot: root, remoteUrl: url, mainBranch, signal } = options;
  const mainRef = `refs/heads/${mainBranch}`;
  const local = await localCommit(root, mainRef, signal);
  const onRemote = (await listRemoteRefs(root, url, [mainRef], signal)).get(mainRef);
  if (onRemote === undefined || local === null) {
    if (local === null) throw noMain(url, mainBranch, root);
    return pushMain(options);
  }
  if (onRemote === local) return 'same';
  const fetched = (await fetchRemoteRefs(root, url, [mainRef], signal)).get(mainRef) ?? mainRef;
  const remote = (await localCommit(root, fetched, signal)) ?? onRemote;
  if (await isAncestor(root, local, remote, signal)) {
    await moveRef(root, mainRef, remote, local, signal);
    await bringCheckedOutMainForward({
      repositoryRoot: root,
      mainReference: mainRef,
      previousMain: local,
      checkpoint: remote,
    });
    return 'pulled';
  }
  if (await isAncestor(root, remote, local, signal)) return pushMain(options);
  throw new LokiError(
    `${mainBranch} in ${root} and on the remote ${url} have diverged; the remote's is the run's: make ${mainBranch} here match it (git fetch, then git reset) and run again`,
    { code: 'REMOTE_MAIN_DIVERGED', category: 'user', context: { root, url } },
  );
}

async function pushMain(options: CoordinatorMainOptions): Promise<'pushed'> {
  const mainRef = `refs/heads/${options.mainBranch}`;
  const pushed = await pushRef(options.repositoryRoot, options.remoteUrl, mainRef, mainRef, {
    signal: options.signal,
  });
  if (pushed.outcome === 'rejected') {
    throw new LokiError(`the remote ${options.remoteUrl} refused ${options.mainBranch}: ${pushed.details}`, {
      code: 'MERGE_COORDINATOR_PUSH_REJECTED',
      category: 'user',
    });
  }
  return 'pushed';
}

function noMain(url: string, mainBranch: string, root: string): LokiError {
  return new LokiError(
    `${root} has no ${mainBranch} to coordinate; clone the run's remote with git clone ${url}`,
    {
      code: 'REMOTE_MAIN_MISSING',
      category: 'user',
    },
  );
}
