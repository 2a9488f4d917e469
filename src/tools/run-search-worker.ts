import { Worker } from 'node:worker_threads';
import { errorCode } from '../errors/index.ts';
import type { SearchJob, SearchReply } from './search-job.ts';

/** The worker runs from source (`.ts`, development and tests) or from the build (`.js`), like this module. */
const SEARCH_WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './search-worker.ts' : './search-worker.js',
  import.meta.url,
);

/** A search that needs more heap than this is stopped as too complex (a pattern expanding without bound). */
const SEARCH_HEAP_LIMIT_MEGABYTES = 256;

export type SearchOutcome =
  | ({ kind: 'finished' } & SearchReply)
  | { kind: 'too_slow'; timeoutMilliseconds: number }
  | { kind: 'too_complex'; heapLimitMegabytes: number };

export interface RunSearchOptions {
  timeoutMilliseconds: number;
  signal: AbortSignal;
}

/**
 * Runs a grep or glob search in a worker thread, so that a model-given pattern never blocks the
 * event loop (every agent, Ctrl-C and `loki stop` are served by it). V8 cannot interrupt a regular
 * expression from the same thread, but `worker.terminate()` stops one in the middle of its
 * backtracking: the deadline and the task's AbortSignal both end the worker that way.
 *
 * Resolves `too_slow` at the deadline and `too_complex` when the worker runs out of heap; rejects
 * with the signal's reason when the task is aborted. The worker is always terminated before the
 * promise settles: nothing of a search outlives its tool call.
 */
export function runSearchWorker(job: SearchJob, options: RunSearchOptions): Promise<SearchOutcome> {
  options.signal.throwIfAborted();
  return new Promise<SearchOutcome>((resolve, reject) => {
    const worker = new Worker(SEARCH_WORKER_URL, {
      workerData: job,
      resourceLimits: { maxOldGenerationSizeMb: SEARCH_HEAP_LIMIT_MEGABYTES },
    });
    let isSettled = false;
    const settle = (outcome: () => void) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(deadline);
      options.signal.removeEventListener('abort', onAbort);
      worker.terminate().then(outcome, (error: unknown) => reject(error));
    };
    const deadline = setTimeout(
      () => settle(() => resolve({ kind: 'too_slow', timeoutMilliseconds: options.timeoutMilliseconds })),
      options.timeoutMilliseconds,
    );
    const onAbort = () => settle(() => reject(options.signal.reason));
    options.signal.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: SearchReply) => settle(() => resolve({ kind: 'finished', ...reply })));
    worker.once('error', (error) =>
      settle(() =>
        errorCode(error) === 'ERR_WORKER_OUT_OF_MEMORY'
          ? resolve({ kind: 'too_complex', heapLimitMegabytes: SEARCH_HEAP_LIMIT_MEGABYTES })
          : reject(error),
      ),
    );
    worker.once('exit', (exitCode) =>
      settle(() => reject(new Error(`the search worker exited (code ${exitCode}) without an answer`))),
    );
  });
}
