import { type FSWatcher, readdirSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface EntryWatch {
  /** Resolves with the name of the first entry that matched. */
  readonly found: Promise<string>;
  close(): void;
}

/**
 * Watches `directory` for an entry whose name `isWanted` accepts, and resolves as soon as the kernel
 * reports it (inotify): no polling, so a test can act inside a window only milliseconds wide, e.g.
 * while `git worktree add` holds its lock. The directory may not exist yet, or be deleted and made
 * again (git prunes an empty `.git/worktrees`): its parent, which must exist, is watched for it, and
 * each time it appears it is watched and listed, so an entry made in between is not missed. Start
 * the watch before whatever creates the entry.
 */
export function watchForEntry(directory: string, isWanted: (name: string) => boolean): EntryWatch {
  let resolveFound: (name: string) => void = () => undefined;
  let rejectFound: (error: unknown) => void = () => undefined;
  const found = new Promise<string>((resolve, reject) => {
    resolveFound = resolve;
    rejectFound = reject;
  });
  // Awaited by the caller, or abandoned when the run ended first: never an unhandled rejection.
  found.catch(() => undefined);
  let directoryWatcher: FSWatcher | undefined;
  let isClosed = false;
  const close = () => {
    isClosed = true;
    parentWatcher.close();
    directoryWatcher?.close();
  };
  const settle = (name: string) => {
    close();
    resolveFound(name);
  };
  const fail = (error: unknown) => {
    close();
    rejectFound(error);
  };
  const attach = () => {
    if (isClosed) return;
    directoryWatcher?.close();
    directoryWatcher = undefined;
    try {
      directoryWatcher = watch(directory, (_eventType, name) => {
        if (name !== null && isWanted(name)) settle(name);
      });
      directoryWatcher.on('error', fail);
      const present = readdirSync(directory).find(isWanted);
      if (present !== undefined) settle(present);
    } catch (error) {
      // Not there (yet, or any more): the parent's watcher attaches again when it appears.
      if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) fail(error);
    }
  };
  const parentWatcher = watch(dirname(directory), (_eventType, name) => {
    if (name === basename(directory)) attach();
  });
  parentWatcher.on('error', fail);
  attach();
  return { found, close };
}
