import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { errorCode, LokiError } from '../errors/index.ts';

/**
 * Where Loki's git commands look, decided from what Loki trusts, never from what an agent wrote.
 *
 * An agent can delete a worktree's `.git` file, `git init` a repository of its own in its place, or
 * point the gitfile at a repository it prepared: git, discovering the repository from the working
 * directory, would then run that repository's hooks, fsmonitor and filter drivers on the host. So a
 * linked worktree's git directory is taken from the repository's own administrative directory
 * (`<common>/worktrees/<name>/gitdir` names the worktree it belongs to), which agents cannot write
 * in the sandbox, and passed to git explicitly with the work tree.
 *
 * Repositories become known when Loki runs git in their root (it always does, to add the worktrees
 * it later works in); their roots are the user's checkout, not agent-writable.
 */

/**
 * Given to every git command Loki runs: no hooks (from any repository's config or hooks folder), no
 * fsmonitor program, no look into nested repositories (a submodule's own config could name filter
 * programs). `-c` wins over every config file and reaches the git processes git itself starts.
 */
export const SAFE_GIT_CONFIGURATION: readonly string[] = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'diff.ignoreSubmodules=all',
  '-c',
  'submodule.recurse=false',
  '-c',
  'status.submoduleSummary=false',
];

/**
 * Variables of the Loki process that would redirect git away from the repository Loki means (or add
 * config to it); never passed on to the git commands Loki runs.
 */
const REDIRECTING_VARIABLES: readonly string[] = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_NAMESPACE',
  'GIT_CONFIG',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
  'GIT_EXTERNAL_DIFF',
];

export function withoutRedirectingVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const cleaned: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (REDIRECTING_VARIABLES.includes(name) || /^GIT_CONFIG_(KEY|VALUE)_\d+$/.test(name)) continue;
    cleaned[name] = value;
  }
  return cleaned;
}

/** A worktree Loki made, with the git directory git itself registered for it. */
export interface LinkedWorktreeLocation {
  /** The worktree's directory (as Loki names it). */
  path: string;
  /** `<common>/worktrees/<name>`: where its HEAD and index live. */
  adminDirectory: string;
  /** The repository's common git directory (objects, refs, config). */
  commonDirectory: string;
}

/** Common git directories of the repositories Loki has run git in, by root. */
const knownCommonDirectories = new Map<string, string>();
/** Linked worktrees found so far, by path; checked again on every use (a path is reused after a remove). */
const linkedWorktrees = new Map<string, LinkedWorktreeLocation>();

/**
 * Records `root` as a repository Loki works on, when it is one whose git directory is a plain
 * `<root>/.git` folder (the common case: the workspace Loki created or the user's clone). Others are
 * learnt from git with `learnCommonDirectory`.
 */
export function noteRepositoryRoot(root: string): void {
  const key = resolve(root);
  if (knownCommonDirectories.has(key) || isInsideLokiWorktrees(key)) return;
  const gitPath = join(key, '.git');
  if (isDirectory(gitPath)) {
    knownCommonDirectories.set(key, gitPath);
    plainRepositoryRoots.add(key);
  }
}

/**
 * Roots whose git directory is a plain `<root>/.git` folder: never a linked worktree (git gives
 * those a gitfile), so looking one up answers at once. Without this every git command run in the
 * repository's root (merge-tree, commit-tree, update-ref, worktree add) read the gitdir file of
 * every worktree and resolved real paths twice over.
 */
const plainRepositoryRoots = new Set<string>();

/** Records a repository whose common directory git reported (`rev-parse --git-common-dir`). */
export function learnCommonDirectory(root: string, commonDirectory: string): void {
  knownCommonDirectories.set(resolve(root), resolve(root, commonDirectory));
}

/**
 * True when git must be asked where `root`'s common directory is before worktrees of it can be
 * found: a root not seen yet whose git directory is not a plain `.git` folder (a subfolder of a
 * repository, a linked worktree of the user's own).
 */
export function needsCommonDirectoryLookup(root: string): boolean {
  const key = resolve(root);
  return !knownCommonDirectories.has(key) && !askedRoots.has(key) && !isInsideLokiWorktrees(key);
}

/** Roots git was already asked about (successfully or not): asked once per process. */
const askedRoots = new Set<string>();

export function markCommonDirectoryAsked(root: string): void {
  askedRoots.add(resolve(root));
}

/**
 * The registered worktree at `path`, found through the administrative directories of the known
 * repositories (never through `path/.git`), or undefined when none of them has one there.
 */
export function findLinkedWorktree(path: string): LinkedWorktreeLocation | undefined {
  const key = resolve(path);
  if (plainRepositoryRoots.has(key)) return undefined;
  const cached = linkedWorktrees.get(key);
  if (cached !== undefined && adminPointsAt(cached.adminDirectory, key)) return cached;
  linkedWorktrees.delete(key);
  for (const commonDirectory of new Set(knownCommonDirectories.values())) {
    const adminDirectory = findAdminDirectory(commonDirectory, key);
    if (adminDirectory !== undefined) {
      const found = { path: key, adminDirectory, commonDirectory };
      linkedWorktrees.set(key, found);
      return found;
    }
  }
  return undefined;
}

/**
 * True when `path` lies in a `.loki/worktrees/` folder, where only Loki's own worktrees live: git
 * must never discover a repository there, and none there is ever taken for a repository root.
 */
export function isInsideLokiWorktrees(path: string): boolean {
  return `${resolve(path)}${sep}`.includes(`${sep}.loki${sep}worktrees${sep}`);
}

/**
 * The arguments that make git work on `cwd` without discovering anything there: a known linked
 * worktree gets its registered git directory and itself as work tree. A place under `.loki/` that
 * is not a registered worktree is refused. Anything else (a repository root, the user's checkout) is
 * left to git: Loki's agents cannot write there.
 */
export function gitLocationArguments(cwd: string): string[] {
  const linked = findLinkedWorktree(cwd);
  if (linked !== undefined) return [`--git-dir=${linked.adminDirectory}`, `--work-tree=${linked.path}`];
  if (isInsideLokiWorktrees(cwd)) {
    throw new LokiError(
      `refusing to run git in ${cwd}: it is under .loki/worktrees/ but is not a worktree registered in a repository Loki works on`,
      { code: 'GIT_WORKTREE_UNREGISTERED', category: 'internal', context: { cwd } },
    );
  }
  return [];
}

/**
 * Throws GIT_WORKTREE_TAMPERED unless the worktree's `.git` is still the gitfile git wrote, pointing
 * at its registered administrative directory: anything else (deleted, a directory from `git init`, a
 * symlink, a gitfile naming another repository) means an agent tried to choose what git runs.
 */
export function assertWorktreeIntact(path: string): void {
  const linked = findLinkedWorktree(path);
  const gitPath = join(resolve(path), '.git');
  const problem = linked === undefined ? 'it is not a registered worktree' : gitfileProblem(gitPath, linked);
  if (problem === undefined) return;
  throw new LokiError(
    `tampering: the worktree's .git was changed (${problem}); Loki's git commands never use it, and nothing of this attempt is merged`,
    { code: 'GIT_WORKTREE_TAMPERED', category: 'user', context: { path } },
  );
}

function gitfileProblem(gitPath: string, linked: LinkedWorktreeLocation): string | undefined {
  let stats;
  try {
    stats = lstatSync(gitPath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return '.git is missing';
    throw error;
  }
  if (stats.isSymbolicLink()) return '.git is a symbolic link';
  if (stats.isDirectory()) return '.git is a directory: a repository of its own';
  if (!stats.isFile()) return '.git is not a regular file';
  if (stats.size > MAX_GITFILE_BYTES) return '.git is not a gitfile';
  const content = readFileSync(gitPath, 'utf8').trim();
  const match = /^gitdir: (.+)$/.exec(content);
  if (match?.[1] === undefined) return '.git is not a gitfile';
  if (!isSamePath(resolve(linked.path, match[1]), linked.adminDirectory)) {
    return `.git points at ${match[1]} instead of the worktree's own git directory`;
  }
  return undefined;
}

/** A gitfile is one line naming a directory; anything larger is not one (and is not read). */
const MAX_GITFILE_BYTES = 4096;

function findAdminDirectory(commonDirectory: string, worktreePath: string): string | undefined {
  const worktreesDirectory = join(commonDirectory, 'worktrees');
  // git names the folder after the worktree's directory (adding a number when that name is taken).
  const likely = join(worktreesDirectory, basename(worktreePath));
  if (adminPointsAt(likely, worktreePath)) return likely;
  let names: string[];
  try {
    names = readdirSync(worktreesDirectory);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
  for (const name of names) {
    const candidate = join(worktreesDirectory, name);
    if (candidate !== likely && adminPointsAt(candidate, worktreePath)) return candidate;
  }
  return undefined;
}

/** True when the administrative directory's `gitdir` file names `<worktreePath>/.git`. */
function adminPointsAt(adminDirectory: string, worktreePath: string): boolean {
  let content: string;
  try {
    content = readFileSync(join(adminDirectory, 'gitdir'), 'utf8').trim();
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
    throw error;
  }
  return isSamePath(resolve(adminDirectory, content), join(worktreePath, '.git'));
}

function isSamePath(left: string, right: string): boolean {
  if (resolve(left) === resolve(right)) return true;
  return realPathOrSelf(left) === realPathOrSelf(right);
}

/** The real path of `path`, resolving its existing parent when the last part is missing. */
function realPathOrSelf(path: string): string {
  // The native call: one realpath(3) instead of an lstat per path component from JavaScript.
  try {
    return realpathSync.native(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    try {
      return join(realpathSync.native(resolve(path, '..')), basename(path));
    } catch (parentError) {
      if (errorCode(parentError) === 'ENOENT') return resolve(path);
      throw parentError;
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}

/**
 * What a sandbox around a command in `worktree` must see of git: the repository's common directory
 * read-only (it may live under a /tmp the sandbox replaces) and the worktree's gitfile, bound
 * read-only over itself so that the command cannot replace it. Empty for anything that is not a
 * worktree Loki made.
 */
export function gitPathsForSandbox(worktree: string): {
  readOnlyDirectories: string[];
  protectedFiles: string[];
} {
  const linked = findLinkedWorktree(worktree);
  if (linked === undefined) return { readOnlyDirectories: [], protectedFiles: [] };
  return { readOnlyDirectories: [linked.commonDirectory], protectedFiles: [join(linked.path, '.git')] };
}
