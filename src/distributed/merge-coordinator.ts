import { isLokiError, LokiError } from '../errors/index.ts';
import type { LokiEvent, MergeDecidedData, MergeRequestedData } from '../events/index.ts';
import { runGit } from '../git/index.ts';
import { type MergeResult, type TaskMerger, readMergedTasks } from '../orchestrator/index.ts';
import type { TaskQueue } from '../queue/index.ts';
import type { Store } from '../store/index.ts';
import { syncCoordinatorMain } from './coordinator-main.ts';
import { fetchRemoteRefs, listRemoteRefs, localCommit, moveRef, pushRef } from './remote-git.ts';
import { StoreWakeup } from './store-wakeup.ts';

export interface MergeCoordinatorOptions {
  store: Store;
  queue: TaskQueue;
  runId: string;
  /** The coordinator's clone: main is made here and pushed to the remote. */
  repositoryRoot: string;
  remoteUrl: string;
  mainBranch: string;
  /** The run's own merge queue on that clone (rebase, gates, verification, trailers). */
  mergeQueue: TaskMerger;
  /** Aborted when the coordinator must stop deciding: the run stops, or the lock was lost. */
  signal: AbortSignal;
  /** A failure the coordinator cannot decide past (the remote unreachable, the store down): the run stops. */
  onFatal: (error: unknown) => void;
  pollMilliseconds?: number;
}

/** How often one request is merged again when the remote's main moved under the push. */
const MAX_PUSH_ATTEMPTS = 3;

type MergeRequestedEvent = Extract<LokiEvent, { type: 'merge.requested' }>;

/**
 * The merge coordinator of a distributed run (run by the process holding the CoordinatorLock):
 * decides the run's `merge.requested` events, each with a `merge.decided`: those waiting together at
 * once, through the merge queue, which verifies them as one batch where it can. A
 * request is merged only while its worker still holds the task, with the run's merge queue, and
 * main is pushed (plainly, never forced) before the decision is written.
 *
 * Crash safety: a coordinator that died between pushing main and writing the decision left main
 * holding the task's checkpoint (its `Loki-Task` trailer). The next one, on start, brings its main
 * to the remote's and decides every such request `merged` with `alreadyOnMain`: nothing is merged twice.
 */
export class MergeCoordinator {
  readonly #options: MergeCoordinatorOptions;
  readonly #decided = new Set<string>();
  readonly #pending: MergeRequestedEvent[] = [];
  #afterSequence = 0;
  #loop: Promise<void> | null = null;
  /** The clone's fetches and pushes, one after another (git locks refs; requests are decided at once). */
  #remoteGit: Promise<unknown> = Promise.resolve();

  constructor(options: MergeCoordinatorOptions) {
    this.#options = options;
  }

  /** Brings main in step with the remote, then decides requests until the signal aborts. */
  start(): void {
    this.#loop ??= this.#run().catch((error: unknown) => {
      if (!this.#options.signal.aborted) this.#options.onFatal(error);
    });
  }

  /** Resolves once the loop has stopped (after the signal aborted). */
  async stopped(): Promise<void> {
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { store, signal } = this.#options;
    using wakeup = new StoreWakeup(store, this.#options.pollMilliseconds ?? 2000);
    await syncCoordinatorMain(this.#syncOptions());
    while (!signal.aborted) {
      await this.#readNewEvents();
      // Every waiting request at once: the merge queue verifies merges that wait together as one
      // batch and moves main once, so many workers are not held to one gate run per task.
      const waiting = this.#pending.splice(0);
      await Promise.all(waiting.map((request) => this.#decide(request)));
      await wakeup.wait(signal);
    }
  }

  #syncOptions() {
    const { repositoryRoot, remoteUrl, mainBranch, signal } = this.#options;
    return { repositoryRoot, remoteUrl, mainBranch, signal };
  }

  async #readNewEvents(): Promise<void> {
    const { store, runId } = this.#options;
    const events = await store.listEvents({
      runId,
      types: ['merge.requested', 'merge.decided'],
      afterSequence: this.#afterSequence,
    });
    for (const event of events) {
      this.#afterSequence = Math.max(this.#afterSequence, event.sequence);
      if (event.type === 'merge.decided') this.#decided.add(event.data.requestId);
      else if (event.type === 'merge.requested') this.#pending.push(event);
    }
    // Decided by an earlier coordinator (its decision may come after the request in the log).
    const open = this.#pending.filter((request) => !this.#decided.has(request.data.requestId));
    this.#pending.splice(0, this.#pending.length, ...open);
  }

  async #decide(event: MergeRequestedEvent): Promise<void> {
    const request = event.data;
    const taskId = event.taskId ?? '';
    let decision: MergeDecidedData | null = null;
    for (let attempt = 1; decision === null; attempt += 1) {
      decision = await this.#tryToDecide(taskId, request, attempt === MAX_PUSH_ATTEMPTS);
    }
    await this.#options.store.appendEvent({
      type: 'merge.decided',
      runId: this.#options.runId,
      taskId,
      data: decision,
    });
    this.#decided.add(request.requestId);
  }

  /** The decision on one request, or null when the remote's main moved under the push (then again). */
  async #tryToDecide(
    taskId: string,
    request: MergeRequestedData,
    isLastAttempt: boolean,
  ): Promise<MergeDecidedData | null> {
    const { repositoryRoot: root, mainBranch, signal } = this.#options;
    const already = (await readMergedTasks(root, mainBranch)).get(taskId);
    if (already !== undefined) return await alreadyOnMain(root, request.requestId, already.commit);
    const reason = await this.#serially(() => this.#whyNotMergeable(taskId, request));
    if (reason !== null) return decided(request.requestId, 'withdrawn', { details: reason });
    const result = await this.#merge(taskId, request);
    if (result.outcome !== 'merged') return decisionOf(request.requestId, result);
    const mainRef = `refs/heads/${mainBranch}`;
    const pushed = await this.#serially(() =>
      pushRef(root, this.#options.remoteUrl, mainRef, mainRef, { signal }),
    );
    if (pushed.outcome === 'pushed') return decisionOf(request.requestId, result);
    if (isLastAttempt) {
      throw new LokiError(
        `the remote's main kept moving while the coordinator pushed (${pushed.details}); only one coordinator may push main: stop any other writer to the remote's main`,
        { code: 'MERGE_COORDINATOR_PUSH_REJECTED', category: 'user' },
      );
    }
    // Main moved on the remote under this merge: this clone takes the remote's main and merges again.
    await moveRef(root, mainRef, await this.#fetchRemoteMain(), result.commit, signal);
    return null;
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#remoteGit.then(work, work);
    this.#remoteGit = next.catch(() => undefined);
    return next;
  }

  async #fetchRemoteMain(): Promise<string> {
    const { repositoryRoot: root, remoteUrl: url, mainBranch, signal } = this.#options;
    const mainRef = `refs/heads/${mainBranch}`;
    const fetched = await fetchRemoteRefs(root, url, [mainRef], signal);
    const commit = await localCommit(root, fetched.get(mainRef) ?? mainRef, signal);
    if (commit === null)
      throw new LokiError(`the remote ${url} has no ${mainBranch}`, {
        code: 'REMOTE_GIT_FAILED',
        category: 'user',
      });
    return commit;
  }

  /** Why the request is not to be merged (the worker lost the task, the pushed commit is gone); null: merge it. */
  async #whyNotMergeable(taskId: string, request: MergeRequestedData): Promise<string | null> {
    const { store, repositoryRoot: root, remoteUrl: url, signal } = this.#options;
    const task = await store.getTask(taskId);
    if (task === null) return `task ${taskId} is not in the queue`;
    if (task.status !== 'in_progress' || task.claimedBy !== request.workerId) {
      return `worker ${request.workerId} no longer holds task ${taskId} (${task.status}${task.claimedBy === null ? '' : `, held by ${task.claimedBy}`})`;
    }
    const branchRef = `refs/heads/${request.branch}`;
    const onRemote = await listRemoteRefs(root, url, [branchRef], signal);
    if (onRemote.has(branchRef)) await fetchRemoteRefs(root, url, [branchRef], signal);
    if ((await localCommit(root, request.commit, signal)) === null) {
      return `the pushed commit ${request.commit} of ${request.branch} is not on the remote any more`;
    }
    return null;
  }

  async #merge(taskId: string, request: MergeRequestedData): Promise<MergeResult> {
    const { queue, signal } = this.#options;
    try {
      return await this.#options.mergeQueue.merge({
        taskId,
        agentType: request.agentType,
        title: request.title,
        // The exact commit the worker pushed, whatever its branch holds by now.
        branch: request.commit,
        verifyCommands: request.verifyCommands,
        trailers: request.trailers,
        isWithdrawn: async () => {
          const task = await queue.get(taskId);
          return task.status !== 'in_progress' || task.claimedBy !== request.workerId;
        },
        signal,
      });
    } catch (error) {
      if (signal.aborted || !isLokiError(error) || error.category === 'user') throw error;
      // A merge that failed in itself (a rebase git could not do): the task's resolution carries it.
      return { outcome: 'verification_failed', command: 'merge', exitCode: null, outputTail: error.message };
    }
  }
}

async function alreadyOnMain(root: string, requestId: string, commit: string): Promise<MergeDecidedData> {
  const parent = await runGit(root, ['rev-parse', '--verify', '--quiet', `${commit}^`], {
    allowFailure: true,
  });
  return decided(requestId, 'merged', {
    commit,
    previousMain: parent.exitCode === 0 ? parent.stdout.trim() : commit,
    alreadyOnMain: true,
  });
}

function decisionOf(requestId: string, result: MergeResult): MergeDecidedData {
  switch (result.outcome) {
    case 'merged':
      return decided(requestId, 'merged', { commit: result.commit, previousMain: result.previousMain });
    case 'conflict':
      return decided(requestId, 'conflict', { files: result.files, details: result.details });
    case 'verification_failed':
      return decided(requestId, 'verification_failed', {
        details: result.outputTail,
        command: result.command,
        exitCode: result.exitCode,
        gate: result.gate ?? null,
      });
    case 'withdrawn':
      return decided(requestId, 'withdrawn', { details: 'the task was withdrawn while it was merged' });
  }
}

function decided(
  requestId: string,
  outcome: MergeDecidedData['outcome'],
  fields: Partial<Omit<MergeDecidedData, 'requestId' | 'outcome'>>,
): MergeDecidedData {
  return {
    requestId,
    outcome,
    commit: null,
    previousMain: null,
    files: [],
    details: '',
    command: null,
    exitCode: null,
    gate: null,
    alreadyOnMain: false,
    ...fields,
  };
}
