import { type GitResult, plainGitDirectory, readSymbolicHead, runGit } from '../git/index.ts';

const WORKTREE_LIST_ATTEMPTS = 10;

/**
 * Main moved with update-ref, which leaves the files of a worktree that has main checked out (the
 * user's repository, usually) at the old commit. A two-tree read-tree fast-forwards its index and
 * files, keeping local changes that do not collide and refusing to overwrite any that do. Returns
 * the checkout left behind (with git's words) when it could not be brought forward.
 */
export async function bringCheckedOutMainForward(options: {
  repositoryRoot: string;
  mainReference: string;
  previousMain: string;
  checkpoint: string;
}): Promise<{ path: string; details: string } | undefined> {
  const { previousMain, checkpoint } = options;
  const checkoutPath = await findCheckoutOfMain(options.repositoryRoot, options.mainReference);
  if (checkoutPath === undefined) return undefined;
  const readTree = await runGit(checkoutPath, ['read-tree', '-m', '-u', previousMain, checkpoint], {
    allowFailure: true,
  });
  if (readTree.exitCode === 0) return undefined;
  return { path: checkoutPath, details: readTree.stderr.trim() };
}

/**
 * The worktree that has main checked out, if any. Usually that is the repository's own checkout,
 * and its .git/HEAD (or one rev-parse) says so. Only otherwise is `git worktree list` asked: it fails ("failed to
 * read .git/worktrees/<id>/commondir") when it meets a task worktree that is being added or
 * removed at that very moment, so it is asked again a few times before the error counts. Main
 * has already moved when this runs: a lost race here must not turn a merge into a failed task.
 */
async function findCheckoutOfMain(root: string, mainReference: string): Promise<string | undefined> {
  // A plain `.git` directory answers without a git process; anything else asks git.
  const gitDirectory = plainGitDirectory(root);
  if (gitDirectory !== undefined && readSymbolicHead(gitDirectory) === mainReference) return root;
  const own = await runGit(
    root,
    ['rev-parse', '--is-bare-repository', '--show-toplevel', '--symbolic-full-name', 'HEAD'],
    { allowFailure: true },
  );
  const [isBare, topLevel, head] = own.stdout.split('\n');
  if (own.exitCode === 0 && isBare === 'false' && head === mainReference && topLevel) return topLevel;
  let listing: GitResult | undefined;
  for (let attempt = 1; attempt < WORKTREE_LIST_ATTEMPTS && listing === undefined; attempt += 1) {
    const result = await runGit(root, ['worktree', 'list', '--porcelain'], { allowFailure: true });
    if (result.exitCode === 0) listing = result;
  }
  listing ??= await runGit(root, ['worktree', 'list', '--porcelain']);
  return parseWorktreeList(listing.stdout).find(
    (worktree) => worktree.branch === mainReference && !worktree.isBare,
  )?.path;
}

interface WorktreeEntry {
  path: string;
  branch: string | undefined;
  isBare: boolean;
}

function parseWorktreeList(porcelain: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  for (const block of porcelain.split('\n\n')) {
    const lines = block.split('\n');
    const path = lines.find((line) => line.startsWith('worktree '))?.slice('worktree '.length);
    if (path === undefined) continue;
    const branch = lines.find((line) => line.startsWith('branch '))?.slice('branch '.length);
    entries.push({ path, branch, isBare: lines.includes('bare') });
  }
  return entries;
}
