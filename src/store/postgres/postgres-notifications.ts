import pg from 'pg';
import { EVENTS_CHANNEL } from './postgres-transaction.ts';

/** Hears that some connection, in any process on any machine, committed events up to `lastSequence`. */
export type EventsCommittedListener = (lastSequence: number) => void;

export interface NotificationOptions {
  connectionString: string;
  /** How long to wait before listening again after the connection was lost. */
  reconnectMilliseconds?: number;
  /** Told when the listening connection fails; waiters fall back to their polls meanwhile. */
  onConnectionError: (error: unknown) => void;
}

/**
 * LISTEN on one connection of its own (a pooled connection cannot keep a LISTEN), opened when the
 * first listener is added and closed with the last. Each transaction that appended events notifies
 * EVENTS_CHANNEL at COMMIT (postgres-transaction.ts), so idle workers and event followers wake at
 * once instead of waiting for their next poll. A notification is only a wake-up: readers always
 * read the log itself, so one lost while reconnecting costs a poll interval, never an event.
 */
export class PostgresNotifications {
  readonly #options: NotificationOptions;
  readonly #listeners = new Set<EventsCommittedListener>();
  #client: pg.Client | null = null;
  #retry: NodeJS.Timeout | null = null;
  #isClosed = false;

  constructor(options: NotificationOptions) {
    this.#options = options;
  }

  add(listener: EventsCommittedListener): () => void {
    const registration: EventsCommittedListener = (sequence) => listener(sequence);
    this.#listeners.add(registration);
    if (this.#client === null && this.#retry === null) this.#connect();
    return () => {
      this.#listeners.delete(registration);
      if (this.#listeners.size === 0) this.#disconnect();
    };
  }

  #connect(): void {
    if (this.#isClosed) return;
    const client = new pg.Client({ connectionString: this.#options.connectionString });
    this.#client = client;
    client.on('notification', (message) => {
      if (message.channel !== EVENTS_CHANNEL) return;
      const sequence = Number(message.payload);
      for (const listener of [...this.#listeners]) listener(sequence);
    });
    client.on('error', (error) => this.#lost(client, error));
    client
      .connect()
      .then(() => client.query(`LISTEN ${EVENTS_CHANNEL}`))
      .catch((error: unknown) => this.#lost(client, error));
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => {
      // Already broken: the error that matters was reported below.
    });
    if (this.#isClosed || this.#listeners.size === 0) return;
    this.#options.onConnectionError(error);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (this.#listeners.size > 0) this.#connect();
    }, this.#options.reconnectMilliseconds ?? 1_000);
    this.#retry.unref();
  }

  #disconnect(): void {
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    const client = this.#client;
    this.#client = null;
    if (client !== null) {
      client.end().catch((error: unknown) => this.#options.onConnectionError(error));
    }
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    this.#listeners.clear();
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    const client = this.#client;
    this.#client = null;
    if (client !== null) await client.end();
  }
}
