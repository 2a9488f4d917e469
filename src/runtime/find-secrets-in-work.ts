import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../errors/index.ts';
import { runGit } from '../git/index.ts';
import type { Redactor } from '../sandbox/index.ts';

/** A changed file of the agent's work that holds a secret, and which kinds (never the values). */
export interface SecretInWork {
  path: string;
  secrets: string[];
}

/**
 * Of a file larger than this only the first part is searched: the checkpoint commits what agents
 * write (source, configuration, notes), and a secret is a few dozen bytes.
 */
const MAX_SEARCHED_BYTES = 8 * 1024 * 1024;

/**
 * The changed and new files of a task's worktree that hold a secret Loki knows (a configured key's
 * value, a well-known token shape). Redaction keeps secrets out of Loki's own sinks; the worktree is
 * the one place an agent writes that Loki then commits, merges and pushes, so its work is searched
 * before it is verified and checkpointed, and work with a secret in it is never committed.
 */
export async function findSecretsInWork(
  worktreePath: string,
  redactor: Redactor,
  signal?: AbortSignal,
): Promise<SecretInWork[]> {
  const status = await runGit(
    worktreePath,
    ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames'],
    signal === undefined ? {} : { signal },
  );
  const found: SecretInWork[] = [];
  for (const entry of status.stdout.split('\0')) {
    // "XY path": X is the index's state, Y the work tree's; a file deleted in the work tree has no content.
    if (entry.length < 4 || entry[1] === 'D') continue;
    const path = entry.slice(3);
    const text = await readStart(join(worktreePath, path));
    if (text === null) continue;
    const secrets = redactor.describeSecretsIn(text);
    if (secrets.length > 0) found.push({ path, secrets });
  }
  return found;
}

/**
 * The file's first MAX_SEARCHED_BYTES as text (a symbolic link's target, which is what git commits
 * of it); null for anything else or a file gone since git listed it. Looked at with lstat first: an
 * agent's named pipe would block an open, and a link is never followed out of the worktree.
 */
async function readStart(path: string): Promise<string | null> {
  try {
    const stats = await lstat(path);
    if (stats.isSymbolicLink()) return await readlink(path);
    if (!stats.isFile()) return null;
    // Opened without following a link and without blocking: the file may have been swapped since.
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await handle.stat()).isFile()) return null;
      const buffer = Buffer.alloc(Math.min(stats.size, MAX_SEARCHED_BYTES));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      // Byte for byte: every secret Loki knows is ASCII, and latin1 maps each byte to one character.
      return buffer.subarray(0, bytesRead).toString('latin1');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errorCode(error) ?? '')) return null;
    throw error;
  }
}
