import { isLokiError, LokiError } from '../errors/index.ts';
import type { LokiEvent, MergeDecidedData, MergeRequestedData } from '../events/index.ts';
import { runGit } from '../git/index.ts';
import { type MergeResult, type TaskMerger, readMergedTasks } from '../orchestrator/index.ts';
import type { TaskQueue } from '../queue/index.ts';
import type { Store } from '../store/index.ts';
import { syncCoordinatorMain } from './coordinator-main.ts';
import {
  fetchRemoteRefs,
  hasReachableCommit,
  isAncestor,
  listRemoteRefs,
  localCommit,
  moveRef,
  pushRef,
} from './remote-git.ts';
import { RemoteRetry } from './remote-retry.ts';
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
  /**
   * Its retries of git against the remote (default: 6 tries over about 30 s); a remote failing past
   * them is fatal, as before.
   */
  retry?: RemoteRetry;
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
  /** The checks and fetches of batches in flight, chained (see #oneAtATime). */
  #checks: Promise<unknown> = Promise.resolve();
  /** The pushes of main, chained, and the last main pushed (see #pushMainHolding). */
  #pushes: Promise<unknown> = Promise.resolve();
  #pushedMain: string | null = null;
  readonly #retry: RemoteRetry;

  constructor(options: MergeCoordinatorOptions) {
    this.#options = options;
    this.#retry =
      options.retry ??
      new RemoteRetry({ remoteUrl: options.remoteUrl, attempts: 6, requeueMilliseconds: null });
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
    // Each git operation against the remote below is safe to redo: it fetches, moves refs forward
    // or pushes a commit the remote may already have.
    await this.#retry.run(() => syncCoordinatorMain(this.#syncOptions()), signal);
    const failed = new AbortController();
    const deciding = new Set<Promise<void>>();
    let failure: { error: unknown } | null = null;
    while (!signal.aborted && failure === null) {
      await this.#readNewEvents();
      const waiting = this.#pending.splice(0);
      // Not awaited: requests that come while a batch is merged are checked and fetched meanwhile,
      // and join the merge queue's next batch instead of waiting for this one to be decided.
      if (waiting.length > 0) {
        const batch = this.#decideTogether(waiting).catch((error: unknown) => {
          failure ??= { error };
          failed.abort();
        });
        deciding.add(batch);
        void batch.finally(() => deciding.delete(batch));
      }
      await wakeup.wait(AbortSignal.any([signal, failed.signal]));
    }
    await Promise.all(deciding);
    if (failure !== null) throw (failure as { error: unknown }).error;
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

  /**
   * Decides requests that waited together as one batch: their branches fetched with one git
   * command, their merges handed to the merge queue at once (it verifies them together and moves
   * main once) and main pushed once for all, so many workers are not held to one fetch, gate run
   * and push per task. Those main moved under (the push was refused) are merged again.
   */
  async #decideTogether(waiting: readonly MergeRequestedEvent[]): Promise<void> {
    let open = waiting;
    for (let attempt = 1; open.length > 0; attempt += 1) {
      const decisions = await this.#tryToDecide(open, attempt >= MAX_PUSH_ATTEMPTS);
      for (const [event, decision] of decisions) {
        await this.#options.store.appendEvent({
          type: 'merge.decided',
          runId: this.#options.runId,
          taskId: event.taskId ?? '',
          data: decision,
        });
        this.#decided.add(decision.requestId);
      }
      open = open.filter((event) => !this.#decided.has(event.data.requestId));
    }
  }

  /**
   * The decision on each request; those left out were merged onto a main that moved on the remote
   * under the push: this clone took the remote's main back and they are to be merged again.
   */
  async #tryToDecide(
    requests: readonly MergeRequestedEvent[],
    isLastAttempt: boolean,
  ): Promise<[MergeRequestedEvent, MergeDecidedData][]> {
    const decisions: [MergeRequestedEvent, MergeDecidedData][] = [];
    const toMerge = await this.#oneAtATime(() => this.#checkRequests(requests, decisions));
    // Handed over in one go: the merge queue takes merges waiting together as one batch.
    const results = await Promise.all(toMerge.map((event) => this.#merge(event.taskId ?? '', event.data)));
    const merged = results.flatMap((result) => (result.outcome === 'merged' ? [result.commit] : []));
    if (merged.length > 0 && !(await this.#pushMainHolding(merged, isLastAttempt))) return decisions;
    toMerge.forEach((event, index) => {
      const result = results[index];
      if (result !== undefined) decisions.push([event, decisionOf(event.data.requestId, result)]);
    });
    return decisions;
  }

  /** The requests to merge; those main holds already or not to be merged get their decision in `decisions`. */
  async #checkRequests(
    requests: readonly MergeRequestedEvent[],
    decisions: [MergeRequestedEvent, MergeDecidedData][],
  ): Promise<MergeRequestedEvent[]> {
    const { repositoryRoot: root, mainBranch } = this.#options;
    const onMain = await readMergedTasks(root, mainBranch);
    const toCheck: MergeRequestedEvent[] = [];
    for (const event of requests) {
      const already = onMain.get(event.taskId ?? '');
      if (already === undefined) toCheck.push(event);
      else decisions.push([event, await alreadyOnMain(root, event.data.requestId, already.commit)]);
    }
    const reasons = await this.#whyNotMergeable(toCheck);
    return toCheck.filter((event) => {
      const reason = reasons.get(event.data.requestId);
      if (reason !== undefined) {
        decisions.push([event, decided(event.data.requestId, 'withdrawn', { details: reason })]);
      }
      return reason === undefined;
    });
  }

  /** The checks and fetches of batches, one batch after another (two would fetch into one ref). */
  #oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#checks.then(work);
    this.#checks = next.catch(() => undefined);
    return next;
  }

  /**
   * Makes the remote's main hold the checkpoints `merged`, one push at a time: a push sends main as
   * it is then, with every merge made before it, so a later request whose checkpoint it already
   * carried pushes nothing. False when the remote's main moved meanwhile (the push was refused):
   * this clone's main is then back at the remote's, for the merges to be made again on top of it.
   */
  #pushMainHolding(merged: readonly string[], isLastAttempt: boolean): Promise<boolean> {
    const push = this.#pushes.then(() => this.#pushMain(merged, isLastAttempt));
    this.#pushes = push.catch(() => undefined);
    return push;
  }

  async #pushMain(merged: readonly string[], isLastAttempt: boolean): Promise<boolean> {
    const { repositoryRoot: root, remoteUrl: url, mainBranch, signal } = this.#options;
    const mainRef = `refs/heads/${mainBranch}`;
    const tip = await localCommit(root, mainRef, signal);
    if (tip === null) {
      throw new LokiError(`${root} has no ${mainBranch}`, {
        code: 'REMOTE_MAIN_MISSING',
        category: 'internal',
      });
    }
    if (tip !== this.#pushedMain) {
      const pushed = await this.#retry.run(() => pushRef(root, url, tip, mainRef, { signal }), signal);
      if (pushed.outcome === 'rejected') {
        await this.#takeRemoteMain(tip, pushed.details, isLastAttempt);
        return false;
      }
      this.#pushedMain = tip;
    }
    // Invariant: a request is decided merged only once the main just pushed holds its checkpoint
    // (a refused push took main back: a checkpoint made before that is not on it any more).
    const held = await Promise.all(merged.map((commit) => isAncestor(root, commit, tip, signal)));
    if (held.every(Boolean)) return true;
    if (isLastAttempt) {
      throw new LokiError(`main ${tip} in ${root} lost checkpoints the coordinator merged; run loki resume`, {
        code: 'MERGE_COORDINATOR_MAIN_LOST',
        category: 'internal',
      });
    }
    return false;
  }

  /** After a refused push: this clone's main becomes the remote's (the merges are made again). */
  async #takeRemoteMain(tip: string, details: string, isLastAttempt: boolean): Promise<void> {
    const { repositoryRoot: root, mainBranch, signal } = this.#options;
    if (isLastAttempt) {
      throw new LokiError(
        `the remote's main kept moving while the coordinator pushed (${details}); only one coordinator may push main: stop any other writer to the remote's main`,
        { code: 'MERGE_COORDINATOR_PUSH_REJECTED', category: 'user' },
      );
    }
    await moveRef(root, `refs/heads/${mainBranch}`, await this.#fetchRemoteMain(), tip, signal);
  }

  async #fetchRemoteMain(): Promise<string> {
    const { repositoryRoot: root, remoteUrl: url, mainBranch, signal } = this.#options;
    const mainRef = `refs/heads/${mainBranch}`;
    const fetched = await this.#retry.run(() => fetchRemoteRefs(root, url, [mainRef], signal), signal);
    const commit = await localCommit(root, fetched.get(mainRef) ?? mainRef, signal);
    if (commit === null)
      throw new LokiError(`the remote ${url} has no ${mainBranch}`, {
        code: 'REMOTE_GIT_FAILED',
        category: 'user',
      });
    return commit;
  }

  /**
   * Why each request is not to be merged (its worker lost the task, the pushed commit is gone), by
   * request id; absent: merge it. The branches still on the remote are fetched with one command.
   */
  async #whyNotMergeable(requests: readonly MergeRequestedEvent[]): Promise<Map<string, string>> {
    const { store, repositoryRoot: root, remoteUrl: url, signal } = this.#options;
    const reasons = new Map<string, string>();
    const tasks = await Promise.all(requests.map((event) => store.getTask(event.taskId ?? '')));
    const held = requests.filter(({ taskId, data: request }, index) => {
      const task = tasks[index] ?? null;
      if (task === null) reasons.set(request.requestId, `task ${taskId ?? ''} is not in the queue`);
      else if (task.status !== 'in_progress' || task.claimedBy !== request.workerId) {
        reasons.set(
          request.requestId,
          `worker ${request.workerId} no longer holds task ${task.id} (${task.status}${task.claimedBy === null ? '' : `, held by ${task.claimedBy}`})`,
        );
      }
      return !reasons.has(request.requestId);
    });
    // Only the commits this clone lacks are fetched (the coordinator's own tasks pushed from here).
    const missing = await this.#lacking(held);
    if (missing.length === 0) return reasons;
    const branchRefs = [...new Set(missing.map((event) => `refs/heads/${event.data.branch}`))];
    await this.#retry.run(async () => {
      const onRemote = await listRemoteRefs(root, url, branchRefs, signal);
      await fetchRemoteRefs(root, url, [...onRemote.keys()], signal);
    }, signal);
    for (const { data: request } of await this.#lacking(missing)) {
      reasons.set(
        request.requestId,
        `the pushed commit ${request.commit} of ${request.branch} is not on the remote any more`,
      );
    }
    return reasons;
  }

  /** The requests whose pushed commit is not in this clone, whole (see hasReachableCommit). */
  async #lacking(requests: readonly MergeRequestedEvent[]): Promise<MergeRequestedEvent[]> {
    const { repositoryRoot: root, signal } = this.#options;
    const isHere = await Promise.all(
      requests.map((event) => hasReachableCommit(root, event.data.commit, signal)),
    );
    return requests.filter((_, index) => isHere[index] !== true);
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
