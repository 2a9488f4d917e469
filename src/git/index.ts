export {
  discardWorktree,
  gitCommonDirectory,
  isCompleteWorktree,
  readWorktreeAdminEntries,
  type WorktreeAdminEntry,
} from './discard-worktree.ts';
export { type GitResult, rememberRepository, runGit } from './run-git.ts';
export {
  addNewTaskWorktree,
  checkpointMessage,
  commitCheckpoint,
  createTaskWorktree,
  ensureInitialCommit,
  LOKI_GIT_IDENTITY,
  removeTaskWorktree,
  rollbackWorktree,
  runAutoMaintenance,
  type TaskWorktree,
  taskBranchName,
  WITHOUT_AUTO_MAINTENANCE,
} from './worktree.ts';
export {
  plainGitDirectory,
  readLooseCommitParents,
  readLooseRef,
  readSymbolicHead,
  readWorktreeHead,
} from './read-loose.ts';
export {
  assertWorktreeIntact,
  findLinkedWorktree,
  gitPathsForSandbox,
  type LinkedWorktreeLocation,
  noteRepositoryRoot,
  SAFE_GIT_CONFIGURATION,
} from './git-location.ts';
