import { LokiError } from '../errors/index.ts';
import type { NewEvent } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import { toWorkspaceFault, type WorkspacePaths } from '../workspace/index.ts';

/**
 * Writes a run's events to the store one after another, in the order they are emitted (emitters
 * do not wait: an agent's text must not wait for a disk write). One that cannot be written stops the
 * run — nothing may happen that the store does not record — and the first such failure is the
 * run's error: `onFailure` is called with it once.
 */
export class OrderedEventWriter {
  readonly #store: Store;
  readonly #paths: WorkspacePaths;
  readonly #onFailure: (error: LokiError) => void;
  #writes: Promise<unknown> = Promise.resolve();
  #failure: LokiError | null = null;

  constructor(options: { store: Store; paths: WorkspacePaths; onFailure: (error: LokiError) => void }) {
    this.#store = options.store;
    this.#paths = options.paths;
    this.#onFailure = options.onFailure;
  }

  /** The first event that could not be written, as the error the run ends with. */
  get failure(): LokiError | null {
    return this.#failure;
  }

  readonly emit = (event: NewEvent): void => {
    this.#writes = this.#writes
      .then(() => this.#store.appendEvent(event))
      .catch((error: unknown) => this.#fail(event, error));
  };

  /** Resolves once every event emitted so far is in the store (or has failed). */
  async flush(): Promise<void> {
    await this.#writes;
  }

  /** A fault of the store seen elsewhere (e.g. while following the run) stops the run the same way. */
  failWith(fault: LokiError): void {
    if (this.#failure !== null) return;
    this.#failure = fault;
    this.#onFailure(fault);
  }

  #fail(event: NewEvent, error: unknown): void {
    this.failWith(
      toWorkspaceFault(error, this.#paths) ?? eventWriteError(event, this.#store.location, error),
    );
  }
}

function eventWriteError(event: NewEvent, location: string, cause: unknown): LokiError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new LokiError(
    `could not record event ${event.type} in the store at ${location}: ${reason}. The run stopped; ` +
      'fix the cause (disk full? read-only?) and run loki resume',
    { code: 'EVENT_WRITE_FAILED', category: 'internal', cause },
  );
}
