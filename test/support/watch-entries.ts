import { existsSync, type FSWatcher, readdirSync, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface DirectoryWatch {
  close(): void;
}

/**
 * Calls `onEntry` with the name of each entry created, renamed, deleted or changed in `directory`,
 * as soon as the kernel reports it (inotify): no polling, so a test can act inside a window only
 * milliseconds wide, e.g. while `git worktree add` holds its lock. The directory may not exist yet,
 * or be deleted and made again (git prunes an empty `.git/worktrees`): its nearest existing ancestor
 * is watched until it appears, and each time it appears its present entries are reported too, so
 * one made in between is not missed (an entry may therefore be reported more than once).
 */
export function watchDirectory(directory: string, onEntry: (name: string) => void): DirectoryWatch {
  let watchers: FSWatcher[] = [];
  let isClosed = false;
  const closeWatchers = () => {
    for (const watcher of watchers) watcher.close();
    watchers = [];
  };
  const watchFor = (path: string, onName: (name: string) => void) => {
    const watcher = watch(path, (_eventType, name) => {
      if (name !== null) onName(name);
    });
    // The watched directory went away: start again from whatever exists now.
    watcher.on('error', () => setImmediate(attach));
    watchers.push(watcher);
  };
  const attach = (): void => {
    if (isClosed) return;
    closeWatchers();
    let existing = directory;
    const missing: string[] = [];
    while (!existsSync(existing)) {
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
    try {
      const [next] = missing;
      if (next === undefined) {
        watchFor(directory, onEntry);
        watchFor(dirname(directory), (name) => {
          if (name === basename(directory)) attach();
        });
        for (const name of readdirSync(directory)) onEntry(name);
      } else {
        watchFor(existing, (name) => {
          if (name === next) attach();
        });
        if (existsSync(join(existing, next))) attach();
      }
    } catch (error) {
      // Deleted between the look and the watch: look again.
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') attach();
      else throw error;
    }
  };
  attach();
  return {
    close: () => {
      isClosed = true;
      closeWatchers();
    },
  };
}

export interface EntryWatch {
  /** Resolves with the name of the first entry that matched. */
  readonly found: Promise<string>;
  close(): void;
}

/** Resolves as soon as an entry whose name `isWanted` accepts is seen in `directory` (see watchDirectory). */
export function watchForEntry(directory: string, isWanted: (name: string) => boolean): EntryWatch {
  let resolveFound: (name: string) => void = () => undefined;
  const found = new Promise<string>((resolve) => {
    resolveFound = resolve;
  });
  let foundName: string | undefined;
  const watcher: DirectoryWatch = watchDirectory(directory, (name) => {
    if (foundName !== undefined || !isWanted(name)) return;
    foundName = name;
    // Possibly called while watchDirectory is still setting up: closed right after.
    queueMicrotask(() => watcher.close());
    resolveFound(name);
  });
  return { found, close: () => watcher.close() };
}
