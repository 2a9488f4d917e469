import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StoreEventFollower } from './store-events.ts';
import { type DirectoryWatch, watchDirectory } from './watch-entries.ts';

/**
 * The moments of a run a chaos test aims at, each recognised by what precedes it: a file git or Loki
 * creates (inotify) or an event the run appends to its store. A moment is armed before the `loki`
 * process starts and says when it has come; what happens then (kill -9, forced stop) is the
 * caller's. Where a moment has a width, a seeded offset picks a point inside it.
 */
export interface ChaosMoment {
  /** What is aimed at, for the history a failure prints (e.g. "the 2nd task worktree add"). */
  readonly description: string;
  arm(root: string): ArmedMoment;
}

export interface ArmedMoment {
  /** Resolves when the moment has come (never, if the run ends first). */
  readonly arrived: Promise<void>;
  close(): void;
}

/** Worktrees that are not a task's: the merge queue's and main's verification checkout. */
const NON_TASK_WORKTREES = new Set(['integration', 'verify-main']);

/**
 * While `git worktree add` makes the `occurrence`-th task worktree of this process: its admin
 * directory has just appeared (git holds it locked until the checkout is done).
 */
export function worktreeAdd(occurrence: number): ChaosMoment {
  return {
    description: `while git adds the ${ordinal(occurrence)} task worktree`,
    arm: (root) =>
      countNewEntries(
        join(root, '.git', 'worktrees'),
        (name) => !NON_TASK_WORKTREES.has(name) && !name.startsWith('.'),
        occurrence,
      ),
  };
}

/**
 * While main's ref moves (the lock `update-ref` takes on it appears) for the first time after
 * `mergesBefore` merges of this process: the merge itself is done, the run has not recorded it yet.
 */
export function mainMove(mergesBefore: number): ChaosMoment {
  return {
    description: `while main moves after ${mergesBefore} merge(s)`,
    arm: (root) => afterMergesThenEntry(root, mergesBefore, join(root, '.git', 'refs', 'heads'), 'main.lock'),
  };
}

/**
 * Inside the merge of the `occurrence`-th task whose own verification passed (the merge queue takes
 * it at once): `offsetMilliseconds` later, somewhere between its rebase and the move of main.
 */
export function merge(occurrence: number, offsetMilliseconds: number): ChaosMoment {
  return {
    description: `${offsetMilliseconds} ms into the merge of the ${ordinal(occurrence)} verified task`,
    arm: (root) => {
      let verified = 0;
      return afterStoreEvent(root, offsetMilliseconds, (event) => {
        if (event.type === 'verification.ran' && event.taskId !== null && event.data.passed === true) {
          verified += 1;
        }
        return verified >= occurrence;
      });
    },
  };
}

/**
 * Inside a batch merge: three verified tasks wait for the merge queue at once (one merging, the
 * others queued behind it, which the queue then merges together), `offsetMilliseconds` later.
 */
export function batchMerge(offsetMilliseconds: number): ChaosMoment {
  return {
    description: `${offsetMilliseconds} ms into a batch merge (3 verified tasks waiting)`,
    arm: (root) => {
      const waiting = new Set<string>();
      return afterStoreEvent(root, offsetMilliseconds, (event) => {
        if (event.taskId === null) return false;
        if (event.type === 'verification.ran' && event.data.passed === true) waiting.add(event.taskId);
        if (LEAVES_THE_MERGE_QUEUE.has(event.type)) waiting.delete(event.taskId);
        return waiting.size >= 3;
      });
    },
  };
}

/** Once a task waiting for its merge no longer waits. */
const LEAVES_THE_MERGE_QUEUE = new Set([
  'merge.completed',
  'merge.rejected',
  'task.completed',
  'task.failed',
  'task.released',
  'task.deferred',
]);

/**
 * While the projections (`.loki/queue/*.json`, STATUS.txt) are rewritten, holding their lock, for
 * the first time after `mergesBefore` merges of this process.
 */
export function projectionWrite(mergesBefore: number): ChaosMoment {
  return {
    description: `while the projections are written after ${mergesBefore} merge(s)`,
    arm: (root) => afterMergesThenEntry(root, mergesBefore, join(root, '.loki', 'state'), 'projections.lock'),
  };
}

/** The first sign of `name` in `directory` once this process has merged `mergesBefore` tasks. */
function afterMergesThenEntry(
  root: string,
  mergesBefore: number,
  directory: string,
  name: string,
): ArmedMoment {
  let merges = 0;
  let entryWatch: ArmedMoment | undefined;
  let isClosed = false;
  const afterMerges = afterStoreEvent(root, 0, (event) => {
    if (event.type === 'merge.completed') merges += 1;
    return merges >= mergesBefore;
  });
  const arrived = afterMerges.arrived.then(() => {
    if (isClosed) return new Promise<void>(() => undefined);
    entryWatch = firstSignOf(directory, name);
    return entryWatch.arrived;
  });
  arrived.catch(() => undefined);
  return {
    arrived,
    close: () => {
      isClosed = true;
      afterMerges.close();
      entryWatch?.close();
    },
  };
}

/**
 * Any event about `name` in `directory` (a lock file lives for milliseconds: by the time the event
 * is read it may be gone again, and that is still the moment it names).
 */
function firstSignOf(directory: string, name: string): ArmedMoment {
  let hasArrived = false;
  let resolveArrived: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => {
    resolveArrived = resolve;
  });
  const watch: DirectoryWatch = watchDirectory(directory, (entry) => {
    if (hasArrived || entry !== name) return;
    hasArrived = true;
    // Possibly called while watchDirectory is still setting up: closed right after.
    queueMicrotask(() => watch.close());
    resolveArrived();
  });
  return { arrived, close: () => watch.close() };
}

/**
 * The `occurrence`-th distinct name `isWanted` accepts appearing in `directory`. A name already
 * there when armed counts only once it has gone and come back (a leftover the run then clears).
 */
function countNewEntries(
  directory: string,
  isWanted: (name: string) => boolean,
  occurrence: number,
): ArmedMoment {
  const preexisting = new Set(existsSync(directory) ? readdirSync(directory) : []);
  const seen = new Set<string>();
  let hasArrived = false;
  let resolveArrived: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => {
    resolveArrived = resolve;
  });
  const watch: DirectoryWatch = watchDirectory(directory, (name) => {
    if (hasArrived || !isWanted(name) || seen.has(name)) return;
    if (preexisting.has(name)) {
      if (!existsSync(join(directory, name))) preexisting.delete(name);
      return;
    }
    seen.add(name);
    if (seen.size < occurrence) return;
    hasArrived = true;
    queueMicrotask(() => watch.close());
    resolveArrived();
  });
  return { arrived, close: () => watch.close() };
}

/** `offsetMilliseconds` after the first new store event for which `isIt` says yes (it sees every event). */
function afterStoreEvent(
  root: string,
  offsetMilliseconds: number,
  isIt: (event: { type: string; taskId: string | null; data: Record<string, unknown> }) => boolean,
): ArmedMoment {
  const follower = new StoreEventFollower(root);
  const controller = new AbortController();
  const arrived = new Promise<void>((resolve) => {
    follower.follow((event) => {
      if (!isIt(event)) return false;
      follower.close();
      resolve();
      return true;
    });
  }).then(() => delay(offsetMilliseconds, undefined, { signal: controller.signal }));
  // Closed before it came: the offset's wait is cancelled, nobody waits for it any more.
  arrived.catch(() => undefined);
  return {
    arrived,
    close: () => {
      follower.close();
      controller.abort();
    },
  };
}

function ordinal(count: number): string {
  const suffix =
    count % 10 === 1 && count !== 11
      ? 'st'
      : count % 10 === 2 && count !== 12
        ? 'nd'
        : count % 10 === 3 && count !== 13
          ? 'rd'
          : 'th';
  return `${count}${suffix}`;
}
