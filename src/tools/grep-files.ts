import { constants, type Dirent } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { basename, join, matchesGlob, relative } from 'node:path';
import type { GrepJob, SearchReply } from './search-job.ts';
import { SKIPPED_DIRECTORY_NAMES } from './skipped-directories.ts';

/** Minified bundles and data files are noise in a code search. */
const MAX_SEARCHED_FILE_BYTES = 2 * 1024 * 1024;
const MAX_LINE_CHARACTERS = 300;
/** Non-blocking: a named pipe opens at once (and is skipped) instead of waiting for a writer. */
const OPEN_FOR_READING = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/**
 * The grep tool's search. It runs in the search worker, never on the main thread: the pattern
 * comes from the model and a backtracking engine can take exponential time on it.
 */
export async function grepFiles(job: GrepJob): Promise<SearchReply> {
  const expression = new RegExp(job.pattern, job.flags);
  const lines: string[] = [];
  for await (const file of walkFiles(job.start)) {
    const relativePath = relative(job.worktree, file);
    if (job.glob !== null && !matchesGlob(relativePath, job.glob) && !matchesGlob(basename(file), job.glob)) {
      continue;
    }
    const content = await readSearchableFile(file);
    if (content === null) continue;
    for (const [index, line] of content.split('\n').entries()) {
      if (!expression.test(line)) continue;
      if (lines.length === job.maxResults) return { lines, isCapped: true };
      const shown = line.length > MAX_LINE_CHARACTERS ? `${line.slice(0, MAX_LINE_CHARACTERS)}...` : line;
      lines.push(`${relativePath}:${index + 1}: ${shown}`);
    }
  }
  return { lines, isCapped: false };
}

/** Regular files under `start` in name order, without following symlinks (they may point outside). */
async function* walkFiles(start: string): AsyncGenerator<string> {
  const startStats = await lstat(start);
  if (!startStats.isDirectory()) {
    if (startStats.isFile()) yield start;
    return;
  }
  const pending = [start];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    const entries: Dirent[] = await readdir(directory, { withFileTypes: true });
    entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.isFile()) yield join(directory, entry.name);
    }
    // Pushed in reverse so that they are popped, and searched, in name order.
    for (const entry of entries.reverse()) {
      if (entry.isDirectory() && !SKIPPED_DIRECTORY_NAMES.has(entry.name))
        pending.push(join(directory, entry.name));
    }
  }
}

/** The text of a regular file, or null for a binary, oversized or non-regular one. */
async function readSearchableFile(path: string): Promise<string | null> {
  const handle = await open(path, OPEN_FOR_READING);
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > MAX_SEARCHED_FILE_BYTES) return null;
    const content = await handle.readFile();
    if (content.subarray(0, 8_000).includes(0)) return null;
    return content.toString('utf8');
  } finally {
    await handle.close();
  }
}
