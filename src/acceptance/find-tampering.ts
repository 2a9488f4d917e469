import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGit } from '../git/index.ts';
import { describeTampering, type TamperChange } from './describe-tampering.ts';
import type { SealedTest } from './sealed-tests.ts';

/**
 * The sealed tests a (non-QA) task's work changed, each with what changed. A sealed test is held to
 * its sealed content when it was written for this task (the harness put it in the worktree), or
 * when the task changed it from what its branch started with: a test sealed after the branch was
 * made is not this task's to know about, and its older content on the branch is not tampering.
 */
export async function findTampering(options: {
  worktreePath: string;
  baseCommit: string;
  taskId: string;
  sealed: ReadonlyMap<string, SealedTest>;
  signal?: AbortSignal;
}): Promise<TamperChange[]> {
  const changes: TamperChange[] = [];
  for (const test of options.sealed.values()) {
    const current = readWorktreeFile(options.worktreePath, test.path);
    if (current === test.content) continue;
    if (test.forTaskId !== options.taskId) {
      const atBase = await readAtCommit(options.worktreePath, options.baseCommit, test.path, options.signal);
      if (current === atBase) continue;
    }
    if (current === SYMBOLIC_LINK) {
      changes.push({
        path: test.path,
        kind: 'modified',
        detail: 'the sealed test file was replaced by a symbolic link',
      });
      continue;
    }
    changes.push(...describeTampering(test.path, test.content, current));
  }
  return changes;
}

/** One line per change, for the task's error and the agent's prompt. */
export function describeTamperChanges(changes: readonly TamperChange[]): string {
  return changes
    .map((change) => `${change.path}: ${change.kind.replace('_', ' ')}: ${change.detail}`)
    .join('; ');
}

/** What `readWorktreeFile` answers for a symbolic link: no text file holds a NUL this way. */
export const SYMBOLIC_LINK = '\0symbolic link';

/** The file's text in the worktree; null when it is not there. A symbolic link is never read through. */
export function readWorktreeFile(worktreePath: string, path: string): string | null {
  const fullPath = join(worktreePath, path);
  try {
    if (lstatSync(fullPath).isSymbolicLink()) return SYMBOLIC_LINK;
    return readFileSync(fullPath, 'utf8');
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

async function readAtCommit(
  worktreePath: string,
  commit: string,
  path: string,
  signal: AbortSignal | undefined,
): Promise<string | null> {
  const result = await runGit(worktreePath, ['show', `${commit}:${path}`], {
    allowFailure: true,
    ...(signal === undefined ? {} : { signal }),
  });
  return result.exitCode === 0 ? result.stdout : null;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
