import { type AppContext, openAppWorkspace } from '../../app/index.ts';
import type { Workspace } from '../../workspace/index.ts';
import { GatesFold } from './gates-fold.ts';
import { PastRuns } from './past-runs.ts';
import { MetricsFold } from './read-metrics.ts';

/**
 * One workspace connection for everything the dashboard reads (snapshots, figures, the event
 * streams), opened at the first read and closed with the server. Opening a workspace per request
 * (configuration, SQLite connection, pragmas) cost more CPU than the reads themselves: a page that
 * follows a run reloads its figures every half second. Controls still go through the app services,
 * which open their own, exactly as the CLI does.
 *
 * It also keeps what the figures fold from the event log and the past runs' reports, so that each
 * reload reads only what is new since the one before.
 */
export class SharedWorkspace implements AsyncDisposable {
  readonly #context: AppContext;
  #opening: Promise<Workspace> | null = null;
  readonly metrics = new MetricsFold();
  readonly gates = new GatesFold();
  readonly pastRuns: PastRuns;

  constructor(context: AppContext) {
    this.#context = context;
    this.pastRuns = new PastRuns(context.cwd);
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
