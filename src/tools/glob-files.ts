import { glob, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errorCode } from '../errors/index.ts';
import { isSameOrInside } from './is-same-or-inside.ts';
import type { GlobJob, SearchReply } from './search-job.ts';
import { SKIPPED_DIRECTORY_NAMES } from './skipped-directories.ts';

/**
 * The glob tool's search. It runs in the search worker, never on the main thread: brace
 * expansion of a model-given pattern (`{a,b}{a,b}…`, `{1..100000}`) is synchronous and can grow
 * exponentially.
 */
export async function globFiles(job: GlobJob): Promise<SearchReply> {
  const lines: string[] = [];
  const found = glob(job.pattern, {
    cwd: job.base,
    exclude: (name) => SKIPPED_DIRECTORY_NAMES.has(basename(name)),
  });
  for await (const match of found) {
    if (match.split('/').some((segment) => SKIPPED_DIRECTORY_NAMES.has(segment))) continue;
    // A pattern that names a symlink (`link/**`) is followed by glob; never list what lies outside.
    const real = await realpath(join(job.base, match)).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    });
    if (real === null || !isSameOrInside(real, job.worktree)) continue;
    if (lines.length === job.maxMatches) return { lines: lines.sort(), isCapped: true };
    lines.push(join(job.baseRelativePath, match));
  }
  return { lines: lines.sort(), isCapped: false };
}
