import { hostname } from 'node:os';
import type { Store, WorkerHeartbeat, WorkerRecord, WorkerRole } from '../store/index.ts';

/** How often a process heartbeats by default; `workerStateOf` calls it lost after three missed. */
export const DEFAULT_HEARTBEAT_MILLISECONDS = 10_000;

export interface WorkerPresenceOptions {
  store: Store;
  /** The process's id: the prefix of every worker id it claims tasks with (`<id>:w<n>`). */
  id: string;
  role: WorkerRole;
  runId: string | null;
  parallel: number;
  /** The agent types it claims; null (default) for any. */
  types?: readonly string[] | null;
  /** Default: this machine's host name and this process. */
  machine?: string;
  pid?: number;
  intervalMilliseconds?: number;
  /**
   * Told, in a sentence for people, when a heartbeat or the stop could not be recorded (once per
   * streak of failures) and when heartbeats are recorded again. The process goes on either way.
   */
  onTrouble?: (text: string) => void;
  /**
   * Failures its caller reports its own way are not told, nor the recovery from them: a run on a
   * full or read-only disk stops with that fault in one line, which a heartbeat must not repeat.
   */
  isReportedElsewhere?: (error: unknown) => boolean;
}

/**
 * The worker id prefix of the process running `loki run` for `runId` (its registry id too). The
 * machine is part of it: coordinators of one run on two machines may have the same pid (pid 1 in
 * containers), and a successor must tell the dead one's tasks from its own.
 */
export function runWorkerId(runId: string, machine: string = hostname(), pid: number = process.pid): string {
  return `run:${runId}:${machine}:${pid}`;
}

/** The id of a `loki worker` process (its registry id and the prefix of its task claims). */
export function workerProcessId(machine: string = hostname(), pid: number = process.pid): string {
  return `worker:${machine}:${pid}`;
}

/**
 * A process's entry in the store's worker registry: registered by `start`, kept fresh by a
 * heartbeat every interval, marked stopped by `stop`, so `loki workers`, `loki status` and the
 * dashboard show who works on the store from which machine.
 *
 * Invariant: presence never fails its process. A heartbeat that cannot be written (a busy or
 * unreachable store) is told to `onTrouble` and tried again at the next interval; the tasks'
 * own leases, not this heartbeat, decide whether work is taken away.
 */
export class WorkerPresence implements AsyncDisposable {
  readonly #store: Store;
  readonly #heartbeat: WorkerHeartbeat;
  readonly #onTrouble: (text: string) => void;
  readonly #isReportedElsewhere: (error: unknown) => boolean;
  #timer: NodeJS.Timeout | null = null;
  #beating: Promise<void> = Promise.resolve();
  /** Whether the last heartbeat failed, and if so whether that was told (recovery is told only then). */
  #failing: 'no' | 'told' | 'quiet' = 'no';
  #isStopped = false;

  private constructor(options: WorkerPresenceOptions) {
    this.#store = options.store;
    this.#onTrouble = options.onTrouble ?? (() => {});
    this.#isReportedElsewhere = options.isReportedElsewhere ?? (() => false);
    this.#heartbeat = {
      id: options.id,
      machine: options.machine ?? hostname(),
      pid: options.pid ?? process.pid,
      role: options.role,
      runId: options.runId,
      parallel: options.parallel,
      types: options.types ?? null,
      heartbeatMilliseconds: options.intervalMilliseconds ?? DEFAULT_HEARTBEAT_MILLISECONDS,
    };
  }

  /** Registers the process (its first heartbeat, awaited) and keeps beating until `stop`. */
  static async start(options: WorkerPresenceOptions): Promise<WorkerPresence> {
    const presence = new WorkerPresence(options);
    await presence.#beat();
    presence.#schedule();
    return presence;
  }

  get id(): string {
    return this.#heartbeat.id;
  }

  /** Stops beating and records the stop; a stop that cannot be recorded is told, not thrown. */
  async stop(): Promise<void> {
    if (this.#isStopped) return;
    this.#isStopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    // A beat in flight lands first; the store would ignore it after the stop anyway.
    await this.#beating;
    try {
      await this.#store.markWorkerStopped(this.#heartbeat.id);
    } catch (error) {
      if (this.#isReportedElsewhere(error)) return;
      this.#onTrouble(
        `could not record that worker ${this.#heartbeat.id} stopped (${reasonOf(error)}); it will show as lost`,
      );
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #schedule(): void {
    if (this.#isStopped) return;
    this.#timer = setTimeout(() => {
      this.#beating = this.#beat().then(() => this.#schedule());
    }, this.#heartbeat.heartbeatMilliseconds);
    // A heartbeat never keeps the process alive on its own.
    this.#timer.unref();
  }

  async #beat(): Promise<WorkerRecord | null> {
    try {
      const record = await this.#store.recordWorkerHeartbeat(this.#heartbeat);
      if (this.#failing === 'told') {
        this.#onTrouble(`heartbeats of worker ${this.#heartbeat.id} are recorded again`);
      }
      this.#failing = 'no';
      return record;
    } catch (error) {
      if (this.#failing === 'no' && this.#isReportedElsewhere(error)) this.#failing = 'quiet';
      if (this.#failing === 'no') {
        this.#failing = 'told';
        const seconds = Math.round(this.#heartbeat.heartbeatMilliseconds / 1000);
        this.#onTrouble(
          `could not record a heartbeat of worker ${this.#heartbeat.id} (${reasonOf(error)}); ` +
            `the work goes on and the heartbeat is tried again every ${seconds} s`,
        );
      }
      return null;
    }
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
