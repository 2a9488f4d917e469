import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type DirectoryWatch, watchDirectory } from './watch-entries.ts';

/** An event as a test reads it straight from the store (the columns of the `events` table). */
export interface StoredEvent {
  sequence: number;
  type: string;
  taskId: string | null;
  data: Record<string, unknown>;
}

/**
 * Follows the events a live `loki` process appends to `.loki/loki.db`, from another process: each
 * write to the database (inotify on `.loki`) reads what is new, so a test acts on an event within
 * milliseconds instead of polling or sleeping. Only events appended after the follower started are
 * reported. The database may not exist yet when it starts.
 */
export class StoreEventFollower implements Disposable {
  readonly #databasePath: string;
  readonly #listeners = new Set<(event: StoredEvent) => void>();
  readonly #watch: DirectoryWatch;
  #database: DatabaseSync | null = null;
  #lastSequence: number | null = null;
  #isReadScheduled = false;
  #reread: NodeJS.Timeout | undefined;
  #isClosed = false;

  constructor(root: string) {
    const lokiDirectory = join(root, '.loki');
    this.#databasePath = join(lokiDirectory, 'loki.db');
    this.#lastSequence = this.#readLastSequence();
    this.#watch = watchDirectory(lokiDirectory, (name) => {
      if (name.startsWith('loki.db')) this.#scheduleRead();
    });
  }

  /** Calls `listener` with every new event, in order, until it returns true or the follower closes. */
  follow(listener: (event: StoredEvent) => boolean): void {
    const wrapped = (event: StoredEvent) => {
      if (listener(event)) this.#listeners.delete(wrapped);
    };
    this.#listeners.add(wrapped);
  }

  close(): void {
    this.#isClosed = true;
    clearTimeout(this.#reread);
    this.#watch.close();
    this.#listeners.clear();
    this.#database?.close();
    this.#database = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Many writes arrive together: one read after them, and one more a quarter second later. A
   * commit writes the log file (which inotify reports) a moment before it publishes the new frames
   * in the shared memory index (which it does not): a read in between sees nothing new, and when
   * that commit is the last for a while (a run waiting for the test) only the second read finds it.
   */
  #scheduleRead(): void {
    if (this.#isReadScheduled || this.#isClosed) return;
    this.#isReadScheduled = true;
    setImmediate(() => {
      this.#isReadScheduled = false;
      if (this.#isClosed) return;
      this.#readNew();
      clearTimeout(this.#reread);
      this.#reread = setTimeout(() => {
        if (!this.#isClosed) this.#readNew();
      }, 250).unref();
    });
  }

  #readNew(): void {
    const rows = this.#query(
      'SELECT sequence, type, task_id, data FROM events WHERE sequence > ? ORDER BY sequence',
      this.#lastSequence ?? 0,
    );
    if (rows === null) {
      // The events it would have read may be the last for a while (a run waiting for the test):
      // read again soon rather than at the next write.
      setTimeout(() => this.#scheduleRead(), 20).unref();
      return;
    }
    for (const row of rows) {
      const event: StoredEvent = {
        sequence: Number(row.sequence),
        type: String(row.type),
        taskId: row.task_id === null ? null : String(row.task_id),
        data: JSON.parse(String(row.data)) as Record<string, unknown>,
      };
      this.#lastSequence = event.sequence;
      for (const listener of [...this.#listeners]) listener(event);
    }
  }

  #readLastSequence(): number {
    const [row] = this.#query('SELECT COALESCE(MAX(sequence), 0) AS last FROM events') ?? [];
    return Number(row?.last ?? 0);
  }

  /**
   * Rows of a read, or null while the database or its tables cannot be read yet: not created, locked
   * for a moment, or (a read-only connection that came before the writer's shared memory) seen
   * without the tables still in the write-ahead log. The read is then tried again.
   */
  #query(sql: string, ...parameters: number[]): Record<string, unknown>[] | null {
    try {
      this.#database ??= new DatabaseSync(this.#databasePath, { readOnly: true });
      return this.#database.prepare(sql).all(...parameters) as Record<string, unknown>[];
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (
        /no such table|unable to open|database is locked|SQLITE_BUSY|file is not a database/i.test(message)
      ) {
        this.#database?.close();
        this.#database = null;
        return null;
      }
      throw error;
    }
  }
}
