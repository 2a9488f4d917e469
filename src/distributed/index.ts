export { CoordinatorLock, type CoordinatorLockOptions } from './coordinator-lock.ts';
export { syncCoordinatorMain } from './coordinator-main.ts';
export { MergeCoordinator, type MergeCoordinatorOptions } from './merge-coordinator.ts';
export { REMOTE_GIT_UNAVAILABLE, redactRemoteUrl } from './remote-failure.ts';
export { hasRemote, isAncestor, localCommit, pushRef } from './remote-git.ts';
export { RemoteMerger, type RemoteMergerOptions, resultOf } from './remote-merger.ts';
export { RemoteRetry, type RemoteRetryOptions } from './remote-retry.ts';
export { GitRemoteSync, type GitRemoteSyncOptions } from './remote-sync.ts';
export { StoreWakeup } from './store-wakeup.ts';
