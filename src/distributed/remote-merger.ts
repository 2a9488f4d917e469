import { randomId } from '../clock/index.ts';
import type { MergeDecidedData } from '../events/index.ts';
import { LokiError } from '../errors/index.ts';
import type { MergeRequest, MergeResult, TaskMerger } from '../orchestrator/index.ts';
import type { Store } from '../store/index.ts';
import { remoteUnavailable } from './remote-failure.ts';
import { localCommit, pushRef } from './remote-git.ts';
import { RemoteRetry } from './remote-retry.ts';
import { StoreWakeup } from './store-wakeup.ts';

export interface RemoteMergerOptions {
  /** The clone the task branches are in. */
  repositoryRoot: string;
  remoteUrl: string;
  store: Store;
  runId: string;
  /** How often a wait for the decision looks again when no wake-up came (default 2 s). */
  pollMilliseconds?: number;
  /** The clone's retries of git against the remote (shared with its GitRemoteSync; default: its own). */
  retry?: RemoteRetry;
}

/**
 * The merge of a task on a machine that is not the merge coordinator: the verified branch is pushed
 * to the shared remote, `merge.requested` appended, and the coordinator's `merge.decided` awaited
 * (woken by the store's commits, a slow poll as the fallback). The task's claim keeps its lease
 * alive meanwhile. Main is never moved here: the coordinator does that, one request at a time.
 */
export class RemoteMerger implements TaskMerger {
  readonly #options: RemoteMergerOptions;
  readonly #retry: RemoteRetry;

  constructor(options: RemoteMergerOptions) {
    this.#options = options;
    this.#retry = options.retry ?? new RemoteRetry({ remoteUrl: options.remoteUrl });
  }

  /** Unknown here: main is the coordinator's; the task worker reads the local main it synced. */
  get mainTip(): string | null {
    return null;
  }

  async merge(request: MergeRequest): Promise<MergeResult> {
    const { repositoryRoot: root, remoteUrl: url, store, runId } = this.#options;
    const signal = request.signal ?? new AbortController().signal;
    const workerId = request.workerId;
    if (workerId === undefined) throw internal('a remote merge needs the id of the worker holding the task');
    if ((await request.isWithdrawn?.()) === true) return { outcome: 'withdrawn' };
    const branchRef = `refs/heads/${request.branch}`;
    const commit = await localCommit(root, branchRef, signal);
    if (commit === null) throw internal(`the task branch ${request.branch} is not in ${root}`);
    // Only the task's holder pushes its branch; a re-attempt may have rewritten it, hence the force.
    // A forced push is refused only by the remote itself (a hook, a ref lock): retried like an
    // unreachable remote; the verified checkpoint stays on the local branch for the next claim.
    await this.#retry.run(async () => {
      const pushed = await pushRef(root, url, branchRef, branchRef, { force: true, signal });
      if (pushed.outcome === 'rejected') throw remoteUnavailable(url, 'push', pushed.details);
    }, signal);
    const requestId = randomId('merge');
    // Listening before appending: a decision committed right after the request is not missed.
    using wakeup = new StoreWakeup(store, this.#options.pollMilliseconds ?? 2000);
    const requested = await store.appendEvent({
      type: 'merge.requested',
      runId,
      taskId: request.taskId,
      data: {
        requestId,
        workerId,
        branch: request.branch,
        commit,
        agentType: request.agentType,
        title: request.title,
        verifyCommands: [...request.verifyCommands],
        trailers: { ...request.trailers },
      },
    });
    // The decision is appended after the coordinator read the request: it comes later in the log.
    return resultOf(await this.#awaitDecision(requestId, requested.sequence, wakeup, signal));
  }

  async #awaitDecision(
    requestId: string,
    afterSequence: number,
    wakeup: StoreWakeup,
    signal: AbortSignal,
  ): Promise<MergeDecidedData> {
    const { store, runId } = this.#options;
    let seen = afterSequence;
    for (;;) {
      signal.throwIfAborted();
      const decisions = await store.listEvents({ runId, types: ['merge.decided'], afterSequence: seen });
      for (const event of decisions) {
        seen = Math.max(seen, event.sequence);
        if (event.type === 'merge.decided' && event.data.requestId === requestId) return event.data;
      }
      await wakeup.wait(signal);
    }
  }
}

/** What the merge step gets: the same MergeResult a local merge queue would have answered. */
export function resultOf(decided: MergeDecidedData): MergeResult {
  switch (decided.outcome) {
    case 'merged':
      if (decided.commit === null || decided.previousMain === null) {
        throw internal(`merge.decided ${decided.requestId} says merged without a commit`);
      }
      return { outcome: 'merged', commit: decided.commit, previousMain: decided.previousMain };
    case 'conflict':
      return { outcome: 'conflict', files: decided.files, details: decided.details };
    case 'verification_failed':
      return {
        outcome: 'verification_failed',
        command: decided.command ?? '',
        exitCode: decided.exitCode,
        outputTail: decided.details,
        ...(decided.gate === null ? {} : { gate: decided.gate }),
      };
    case 'withdrawn':
      return { outcome: 'withdrawn' };
  }
}

function internal(message: string): LokiError {
  return new LokiError(message, { code: 'REMOTE_MERGE_INVALID', category: 'internal' });
}
