import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { LokiError } from '../errors/index.ts';
import { ADVISORY_NAMESPACES, parsePostgresUrl, redactPostgresUrl } from '../store/index.ts';

export interface CoordinatorLockOptions {
  storeUrl: string;
  runId: string;
  /** Said once when another process holds the lock and this one starts waiting for it. */
  onWaiting?: () => void;
  /** How often a waiting process tries again (default 1 s). */
  pollMilliseconds?: number;
  signal?: AbortSignal;
}

/**
 * The merge coordinator's lock: exactly one process merges a run's requests. A PostgreSQL session
 * advisory lock (`pg_try_advisory_lock(3, hashtext(run id))`) on a connection of its own, so the
 * server frees it the moment that process dies, kill -9 included: the next coordinator then takes
 * it. `lost` is aborted when the connection drops (the lock went with it): the holder must stop
 * merging at once.
 */
export class CoordinatorLock implements AsyncDisposable {
  readonly #client: pg.Client;
  readonly #lost = new AbortController();
  #isReleased = false;

  private constructor(client: pg.Client) {
    this.#client = client;
    client.on('error', (error) => this.#lost.abort(lockLost(error)));
    client.on('end', () => {
      if (!this.#isReleased) this.#lost.abort(lockLost(new Error('the connection ended')));
    });
  }

  /** Waits until this process holds the lock of the run (or `signal` aborts). */
  static async acquire(options: CoordinatorLockOptions): Promise<CoordinatorLock> {
    const client = new pg.Client({ connectionString: parsePostgresUrl(options.storeUrl) });
    try {
      await client.connect();
    } catch (error) {
      throw new LokiError(
        `cannot reach the PostgreSQL store ${redactPostgresUrl(options.storeUrl)} for the merge coordinator's lock: ${error instanceof Error ? error.message : String(error)}; start the server or fix the URL`,
        { code: 'STORE_UNREACHABLE', category: 'user', cause: error },
      );
    }
    const lock = new CoordinatorLock(client);
    try {
      let hasSaidWaiting = false;
      while (!(await lock.#tryLock(options.runId))) {
        if (!hasSaidWaiting) options.onWaiting?.();
        hasSaidWaiting = true;
        await delay(
          options.pollMilliseconds ?? 1000,
          undefined,
          options.signal ? { signal: options.signal } : {},
        );
      }
    } catch (error) {
      await lock.release();
      throw error;
    }
    return lock;
  }

  /** Aborted when the lock's connection dropped: the lock is gone. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  async #tryLock(runId: string): Promise<boolean> {
    const result = await this.#client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
      [ADVISORY_NAMESPACES.mergeCoordinator, runId],
    );
    return result.rows[0]?.locked === true;
  }

  /** Closing the session frees the lock. */
  async release(): Promise<void> {
    if (this.#isReleased) return;
    this.#isReleased = true;
    await this.#client.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

function lockLost(cause: unknown): LokiError {
  return new LokiError(
    `the merge coordinator lost its connection to the store, and with it the lock: ${cause instanceof Error ? cause.message : String(cause)}; run loki resume to coordinate again`,
    { code: 'MERGE_COORDINATOR_LOCK_LOST', category: 'internal', cause },
  );
}
