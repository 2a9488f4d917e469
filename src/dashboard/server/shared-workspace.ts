import { type AppContext, openAppWorkspace } from '../../app/index.ts';
import type { Workspace } from '../../workspace/index.ts';

/**
 * One workspace connection for everything the dashboard reads (snapshots, figures, the event
 * streams), opened at the first read and closed with the server. Opening a workspace per request
 * (configuration, SQLite connection, pragmas) cost more CPU than the reads themselves: a page that
 * follows a run reloads its figures every half second. Controls still go through the app services,
 * which open their own, exactly as the CLI does.
 */
export class SharedWorkspace implements AsyncDisposable {
  readonly #context: AppContext;
  #opening: Promise<Workspace> | null = null;

  constructor(context: AppContext) {
    this.#context = context;
  }

  get root(): string {
    return this.#context.cwd;
  }

  get now(): number {
    return this.#context.clock.now();
  }

  open(): Promise<Workspace> {
    if (this.#opening === null) {
      const opening = openAppWorkspace(this.#context);
      // A failed open (no workspace yet: `loki dashboard` before `loki init`) is tried again next time.
      opening.catch(() => {
        if (this.#opening === opening) this.#opening = null;
      });
      this.#opening = opening;
    }
    return this.#opening;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const opening = this.#opening;
    this.#opening = null;
    if (opening === null) return;
    const workspace = await opening.catch(() => null);
    await workspace?.[Symbol.asyncDispose]();
  }
}
