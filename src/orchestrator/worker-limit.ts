import { availableParallelism, freemem, loadavg } from 'node:os';

const MEBIBYTE = 1024 * 1024;
export const DEFAULT_MEMORY_PER_WORKER_BYTES = 200 * MEBIBYTE;
export const DEFAULT_RESERVED_MEMORY_BYTES = 256 * MEBIBYTE;

export interface MachineLoad {
  freeMemoryBytes: number;
  /** One-minute load average. */
  loadAverage: number;
  cpuCount: number;
}

export interface WorkerLimitInput extends MachineLoad {
  /** What the user asked for (`--parallel`, `LOKI_MAX_PARALLEL_AGENTS`). */
  requested: number;
  /** What one agent worker (its tool commands, builds and tests included) is assumed to use. */
  memoryPerWorkerBytes?: number;
  /** Kept free for Loki itself and the rest of the machine. */
  reservedMemoryBytes?: number;
  /**
   * Lower the limit while the load average is high (default). Off where the load average does not
   * describe what Loki may use: a container sees its host's load, a shared CI runner its neighbours'.
   */
  followLoad?: boolean;
}

export interface WorkerLimit {
  limit: number;
  /** A short sentence for the user when the limit is below what was requested; null otherwise. */
  reason: string | null;
}

/**
 * How many workers may run now: the requested number, lowered when free memory cannot hold that
 * many, or when the load average is above twice the CPU count (lowered in proportion). Never
 * below 1: a run on a busy machine goes slowly rather than not at all.
 */
export function computeWorkerLimit(input: WorkerLimitInput): WorkerLimit {
  const requested = Math.max(1, Math.floor(input.requested));
  const memoryPerWorker = input.memoryPerWorkerBytes ?? DEFAULT_MEMORY_PER_WORKER_BYTES;
  const reserved = input.reservedMemoryBytes ?? DEFAULT_RESERVED_MEMORY_BYTES;
  const cpuCount = Math.max(1, input.cpuCount);

  const byMemory = Math.floor((input.freeMemoryBytes - reserved) / memoryPerWorker);
  const loadThreshold = 2 * cpuCount;
  const byCpu =
    input.followLoad !== false && input.loadAverage > loadThreshold
      ? Math.floor((requested * loadThreshold) / input.loadAverage)
      : requested;
  const limit = Math.max(1, Math.min(requested, byMemory, byCpu));
  if (limit === requested) return { limit, reason: null };

  const causes: string[] = [];
  if (byMemory < requested) causes.push(`free memory ${Math.floor(input.freeMemoryBytes / MEBIBYTE)} MiB`);
  if (byCpu < requested) {
    causes.push(
      `load average ${input.loadAverage.toFixed(1)} on ${cpuCount} CPU${cpuCount === 1 ? '' : 's'}`,
    );
  }
  const verb = causes.length === 1 ? 'allows' : 'allow';
  return { limit, reason: `${causes.join(' and ')} ${verb} ${limit} agent${limit === 1 ? '' : 's'}` };
}

export function sampleMachineLoad(): MachineLoad {
  return { freeMemoryBytes: freemem(), loadAverage: loadavg()[0] ?? 0, cpuCount: availableParallelism() };
}

export interface WorkerLimiterOptions {
  requested: number;
  /** Defaults to the real machine (node:os). */
  sample?: () => MachineLoad;
  /** Sampling is cheap but the answer is noisy; the limit is recomputed at most this often. */
  minIntervalMilliseconds?: number;
  now?: () => number;
  memoryPerWorkerBytes?: number;
  reservedMemoryBytes?: number;
  followLoad?: boolean;
}

/**
 * The scheduler asks `current()` before starting a worker. The limit is re-sampled at most every
 * `minIntervalMilliseconds`; `changed` says whether it differs from the previous answer (the first
 * answer is compared with `requested`, so a machine already short at start is reported once).
 */
export class WorkerLimiter {
  readonly #options: WorkerLimiterOptions;
  readonly #sample: () => MachineLoad;
  readonly #now: () => number;
  #lastSampledAt: number | null = null;
  #computed: WorkerLimit;
  #reportedLimit: number;

  constructor(options: WorkerLimiterOptions) {
    this.#options = options;
    this.#sample = options.sample ?? sampleMachineLoad;
    this.#now = options.now ?? Date.now;
    this.#reportedLimit = Math.max(1, Math.floor(options.requested));
    this.#computed = { limit: this.#reportedLimit, reason: null };
  }

  current(): WorkerLimit & { changed: boolean } {
    const now = this.#now();
    const interval = this.#options.minIntervalMilliseconds ?? 2_000;
    if (this.#lastSampledAt === null || now - this.#lastSampledAt >= interval) {
      this.#lastSampledAt = now;
      this.#computed = computeWorkerLimit({
        ...this.#sample(),
        requested: this.#options.requested,
        ...(this.#options.memoryPerWorkerBytes === undefined
          ? {}
          : { memoryPerWorkerBytes: this.#options.memoryPerWorkerBytes }),
        ...(this.#options.reservedMemoryBytes === undefined
          ? {}
          : { reservedMemoryBytes: this.#options.reservedMemoryBytes }),
        ...(this.#options.followLoad === undefined ? {} : { followLoad: this.#options.followLoad }),
      });
    }
    const changed = this.#computed.limit !== this.#reportedLimit;
    this.#reportedLimit = this.#computed.limit;
    return { ...this.#computed, changed };
  }
}
