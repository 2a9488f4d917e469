import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGit } from '../git/index.ts';

export interface TaskChange {
  /** `git diff` from where the branch left main to its checkpoint. */
  diff: string;
  /** Each regular text file the change leaves in place, with its number of lines. */
  changedFiles: Map<string, number>;
}

/**
 * The task's change as reviewers see it: the branch's diff against the point where it left main
 * (`main...HEAD`, so commits that reached main since do not show), and the files it leaves.
 */
export async function readTaskChange(
  worktreePath: string,
  mainBranch: string,
  signal?: AbortSignal,
): Promise<TaskChange> {
  const range = `refs/heads/${mainBranch}...HEAD`;
  const options = signal === undefined ? {} : { signal };
  const [diff, names] = await Promise.all([
    runGit(worktreePath, ['diff', '--no-color', '--no-ext-diff', range], options),
    runGit(worktreePath, ['diff', '--name-only', '-z', '--diff-filter=d', range], options),
  ]);
  const changedFiles = new Map<string, number>();
  for (const file of names.stdout.split('\0').filter((name) => name !== '')) {
    const lineCount = countTextLines(join(worktreePath, file));
    if (lineCount !== null) changedFiles.set(file, lineCount);
  }
  return { diff: diff.stdout, changedFiles };
}

/** Lines of a regular text file; null for a symbolic link, a binary file or one that is gone. */
function countTextLines(path: string): number | null {
  try {
    if (!lstatSync(path).isFile()) return null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const content = readFileSync(path);
  if (content.includes(0)) return null;
  const text = content.toString('utf8');
  return text === '' ? 0 : text.replace(/\n$/, '').split('\n').length;
}
