import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { errorCode } from '../errors/index.ts';
import { findLinkedWorktree } from './git-location.ts';

/**
 * Reads git's own files for the few facts the hot path needs right after git wrote them (a branch
 * tip, a commit's parents, what HEAD points at), instead of starting a git process for each: Node
 * starts a child process synchronously, and a run starts thousands of them.
 *
 * Every reader answers only from the plain on-disk forms git documents (a loose ref, a loose
 * object, a `.git` directory) and returns undefined for anything else (packed refs, packs, reftable,
 * a `.git` file, an unexpected shape): the caller then asks git. An answer is never a guess: a loose
 * ref or object that exists is what git itself would read first.
 */

/** The repository's git directory when it is a plain `<root>/.git` directory; undefined otherwise. */
export function plainGitDirectory(repositoryRoot: string): string | undefined {
  const path = join(repositoryRoot, '.git');
  try {
    return statSync(path).isDirectory() ? path : undefined;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** The commit a loose ref (e.g. `refs/heads/loki/task-1`) names, or undefined when it is not loose. */
export function readLooseRef(gitDirectory: string, reference: string): string | undefined {
  const content = readIfPresent(join(gitDirectory, reference))?.toString('utf8').trim();
  return content !== undefined && OBJECT_ID.test(content) ? content : undefined;
}

/** The branch HEAD names (`refs/heads/…`), or undefined when HEAD is detached or unreadable. */
export function readSymbolicHead(gitDirectory: string): string | undefined {
  const content = readIfPresent(join(gitDirectory, 'HEAD'))?.toString('utf8').trim();
  const match = content === undefined ? null : /^ref: (refs\/heads\/\S+)$/.exec(content);
  return match?.[1];
}

/** The parents of a commit stored as a loose object, or undefined when it is packed or not a commit. */
export function readLooseCommitParents(gitDirectory: string, commit: string): string[] | undefined {
  if (!OBJECT_ID.test(commit)) return undefined;
  const compressed = readIfPresent(join(gitDirectory, 'objects', commit.slice(0, 2), commit.slice(2)));
  if (compressed === undefined) return undefined;
  const object = inflateSync(compressed);
  const headerEnd = object.indexOf(0);
  if (headerEnd < 0 || object.subarray(0, headerEnd).toString('latin1').split(' ')[0] !== 'commit') {
    return undefined;
  }
  // The header lines end at the first blank line; parents follow the tree line.
  const bodyStart = object.indexOf('\n\n', headerEnd);
  const headers = object
    .subarray(headerEnd + 1, bodyStart < 0 ? object.length : bodyStart)
    .toString('latin1');
  const lines = headers.split('\n');
  if (!lines[0]?.startsWith('tree ')) return undefined;
  const parents: string[] = [];
  for (const line of lines.slice(1)) {
    if (!line.startsWith('parent ')) break;
    parents.push(line.slice('parent '.length));
  }
  return parents.every((parent) => OBJECT_ID.test(parent)) ? parents : undefined;
}

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function readIfPresent(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  }
}

/**
 * The commit checked out in a linked worktree Loki made, read from its registered administrative
 * directory (never from the worktree's own `.git`, which an agent can rewrite), following HEAD to a
 * loose branch ref of the common directory; undefined for anything else.
 */
export function readWorktreeHead(worktreePath: string): string | undefined {
  const linked = findLinkedWorktree(worktreePath);
  if (linked === undefined) return undefined;
  const adminDirectory = linked.adminDirectory;
  const head = readIfPresent(join(adminDirectory, 'HEAD'))?.toString('utf8').trim();
  if (head === undefined) return undefined;
  if (OBJECT_ID.test(head)) return head;
  const reference = /^ref: (refs\/heads\/\S+)$/.exec(head)?.[1];
  const common = readIfPresent(join(adminDirectory, 'commondir'))?.toString('utf8').trim();
  if (reference === undefined || common === undefined) return undefined;
  return readLooseRef(resolve(adminDirectory, common), reference);
}
