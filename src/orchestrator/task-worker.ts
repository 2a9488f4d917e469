import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findAgentType, tierForComplexity } from '../agents/index.ts';
import type { BudgetGovernor } from '../budget/index.ts';
import type { Clock, RandomSource } from '../clock/index.ts';
import type { CircuitBreakerConfig, LokiConfig } from '../config/index.ts';
import { isLokiError, LokiError } from '../errors/index.ts';
import type { NewEvent } from '../events/index.ts';
import {
  addNewTaskWorktree,
  assertWorktreeIntact,
  checkpointMessage,
  createTaskWorktree,
  LOKI_GIT_IDENTITY,
  plainGitDirectory,
  readLooseRef,
  removeTaskWorktree,
  rollbackWorktree,
  runGit,
  type TaskWorktree,
  taskBranchName,
  WITHOUT_AUTO_MAINTENANCE,
} from '../git/index.ts';
import { queueWaitOf } from '../resilience/index.ts';
import { joinVerifyCommands, runTaskCycle, taskRetryPolicy } from '../runtime/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import type { Task } from '../store/index.ts';
import { ContinuityFile, probeWorkspaceFault, toWorkspaceFault, type Workspace } from '../workspace/index.ts';
import type { AgentSource } from './agent-source.ts';
import { CancelWatch } from './cancel-watch.ts';
import type { MergeQueue, MergeResult } from './merge-queue.ts';
import { type MergedWorkIndex, RESOLVES_TRAILER, TASK_TRAILER } from './merged-work.ts';
import { readTaskPayload, type TaskPayload, taskVerifyCommands } from './task-payload.ts';

/** What a run works with, whoever uses it: the pipeline and each task worker. */
export interface RunServices {
  workspace: Workspace;
  source: AgentSource;
  runner: CommandRunner;
  verifyEnvironment: Readonly<Record<string, string>>;
  config: LokiConfig;
  breakerConfig: CircuitBreakerConfig;
  clock: Clock;
}

export interface TaskWorkerContext extends RunServices {
  runId: string;
  mainBranch: string;
  mergeQueue: MergeQueue;
  random?: RandomSource;
  governor: BudgetGovernor | null;
  /** What main already holds (loaded once per process, updated by each merge). */
  merged: MergedWorkIndex;
  emit: (event: NewEvent) => void;
  /** Aborted on a graceful stop: agents are signalled and their tasks go back to the queue. */
  signal: AbortSignal;
  /** Agent rounds (each ending in a verification) in one claim of a task. */
  roundsPerAttempt: number;
  maxSteps: number;
  /** Resolution tasks may themselves need resolving; past this depth the task fails instead. */
  maxResolutionDepth?: number;
  /** The project's gates (the architecture's verifyCommands): they verify a task with none of its own. */
  projectGates: readonly string[];
}

/**
 * How one claim of a task ended. merged: its work is on main (task completed); deferred: its merge
 * was rejected and a resolution task now carries it; failed: the attempt counted as a failure
 * (backoff or dead letter); released: stopped, or waiting for a rate limit or an open breaker, back
 * to the queue without a failure counted; budget: the budget cap stopped it (also released);
 * abandoned: the worker lost the lease (another worker holds the task), nothing of it was merged;
 * withdrawn: the task was cancelled while it ran: its agent stopped, nothing of it merged, and the
 * queue is left as the store says.
 * A permanent provider failure (bad key, no quota, unknown model) releases the task and is thrown:
 * the run cannot go on without the user. So is a failure to record the outcome in the store.
 */
export type TaskWorkOutcome =
  'merged' | 'deferred' | 'failed' | 'released' | 'budget' | 'abandoned' | 'withdrawn';

const RESOLUTION_SUFFIX = '-fix';
/** Provider failures no task can get past (a bad request or a broken script is the task's own failure). */
const RUN_STOPPING_FAILURES: ReadonlySet<string> = new Set([
  'PROVIDER_AUTH',
  'PROVIDER_QUOTA',
  'PROVIDER_MODEL_UNKNOWN',
]);

/**
 * One claim of one task, end to end: skip it if main already holds its work, reuse a verified
 * checkpoint left by a crashed run, otherwise run the RARV cycle in the task's worktree; then hand
 * the branch to the merge queue. A rejected merge (conflict or red re-verification) becomes a
 * resolution task that the original task waits for. The worktree is always removed; the branch
 * `loki/<task-id>` keeps its checkpoint.
 */
export async function workOnTask(
  task: Task,
  workerId: string,
  runContext: TaskWorkerContext,
  hooks: { onAgentDone?: () => void } = {},
): Promise<TaskWorkOutcome> {
  const queue = runContext.workspace.queue;
  // Aborted when a heartbeat finds the lease lost (its lease expired and another worker took the
  // task, or it was cancelled): the agent stops. Invariant: a worker that lost the lease never merges.
  const lease = new AbortController();
  let writes: Promise<unknown> = Promise.resolve();
  const heartbeat = setInterval(
    () => {
      writes = writes.then(() =>
        queue.heartbeat(task.id, workerId).then(
          () => undefined,
          (error: unknown) => {
            if (isLeaseLost(error)) {
              lease.abort(error);
              return;
            }
            // Any other failure is reported and the next beat tries again; if the store stays
            // unreachable the lease runs out and the next beat finds it lost.
            runContext.emit({
              type: 'agent.error',
              runId: runContext.runId,
              taskId: task.id,
              data: {
                code: 'TASK_HEARTBEAT_FAILED',
                category: 'internal',
                message: `the lease of ${task.id} could not be extended: ${describeError(error)}`,
              },
            });
          },
        ),
      );
    },
    Math.max(1000, (task.timeoutSeconds * 1000) / 3),
  );
  heartbeat.unref();
  // A cancel from anywhere stops this task's agent, verification and merge within about a second.
  using cancelWatch = new CancelWatch({ queue, taskId: task.id, runSignal: runContext.signal });
  // Everything below works under the task's own signal: the run stopping, a cancel, or the lease lost.
  const context: TaskWorkerContext = {
    ...runContext,
    signal: AbortSignal.any([cancelWatch.signal, lease.signal]),
  };
  const signal = context.signal;
  const { workspace } = context;
  let worktree: TaskWorktree | null = null;
  /** A worktree still being created (see isFresh below): waited for before it is removed. */
  let pendingWorktree: { ready: Promise<unknown>; files: readonly string[] } | undefined;
  try {
    // A malformed payload fails the task with an error naming it, never as an empty payload.
    const payload = readTaskPayload(task);
    const alreadyMerged = context.merged.get(task.id);
    if (alreadyMerged !== undefined) {
      await writes;
      await queue.complete(task.id, workerId, {
        commit: alreadyMerged.commit,
        mergedVia: alreadyMerged.via,
        branch: taskBranchName(task.id),
      });
      return 'merged';
    }

    const agentType = findAgentType(task.type);
    const worktreesDirectory = join(workspace.paths.lokiDirectory, 'worktrees');
    // createTaskWorktree puts the worktree at <worktreesDirectory>/<task-id>; one that is not there yet is
    // checked out fresh from its branch, with nothing half-done in it.
    const worktreePath = join(worktreesDirectory, task.id);
    const isNewWorktree = !existsSync(worktreePath);
    // A task claimed for the first time has no branch yet. With Loki's own tool loop its worktree is
    // created while the model thinks about the first step (the tools wait for it), from the main
    // commit read now; the prompt lists main's files instead of reading the worktree.
    const isFresh =
      task.attemptCount === 1 &&
      payload.resolves === undefined &&
      isNewWorktree &&
      context.source.runtime !== 'claude-code' &&
      context.source.runtime !== 'codex';
    let created: TaskWorktree & { isNewBranch: boolean };
    if (isFresh) {
      const mainAtStart = context.mergeQueue.mainTip ?? (await mainCommit(context));
      // Started once the agent is on its way (Node starts a process synchronously: the model call goes first).
      const ready = new Promise((resolve) => setImmediate(resolve)).then(() =>
        addNewTaskWorktree({
          repositoryRoot: workspace.paths.root,
          worktreesDirectory,
          taskId: task.id,
          baseCommit: mainAtStart,
          signal,
        }),
      );
      // Awaited below; until then a failure must not count as unhandled.
      ready.catch(() => undefined);
      const files = await filesOfCommit(workspace.paths.root, mainAtStart);
      pendingWorktree = { ready, files };
      created = {
        repositoryRoot: workspace.paths.root,
        path: worktreePath,
        branch: taskBranchName(task.id),
        baseCommit: mainAtStart,
        isNewBranch: true,
      };
    } else {
      created = await createTaskWorktree({
        repositoryRoot: workspace.paths.root,
        worktreesDirectory,
        taskId: task.id,
        baseRef: context.mainBranch,
        signal,
      });
    }
    worktree = created;
    // Whatever a killed run left half-done goes: the worktree returns to the branch's last checkpoint.
    if (!isNewWorktree) await rollbackWorktree(worktree, 'HEAD', signal);

    let attempts = 0;
    let usage: unknown = null;
    // Two reads, side by side: main is only used when the branch has nothing pending.
    // A branch made just now from main has no checkpoint and starts from today's main: nothing to ask git.
    const [hasPending, main] = created.isNewBranch
      ? [false, worktree.baseCommit]
      : await Promise.all([hasPendingCheckpoint(worktree, task, context), mainCommit(context)]);
    if (!hasPending) {
      // Nothing of its own on the branch yet: start from today's main, not the main of an earlier attempt.
      if (worktree.baseCommit !== main && (await isAncestor(worktree.path, 'HEAD', main))) {
        await runGit(worktree.path, ['reset', '--hard', '--quiet', main], { signal });
        worktree = { ...worktree, baseCommit: main };
      }
      if (payload.resolves !== undefined) await bringInResolvedWork(worktree, payload.resolves, signal);
      const retry = taskRetryPolicy({
        config: context.config,
        breakerConfig: context.breakerConfig,
        clock: context.clock,
        store: workspace.store,
        provider: context.source.provider,
        agentType: task.type,
        ...(context.random === undefined ? {} : { random: context.random }),
        canRequeue: true,
      });
      const tier = tierForComplexity(payload.complexity, agentType);
      const agent = context.source.createTaskAgent({
        task,
        agentType,
        tier,
        worktree,
        emit: context.emit,
        retry,
        runId: context.runId,
        governor: context.governor,
        signal,
        maxSteps: context.maxSteps,
        ...(pendingWorktree === undefined ? {} : { worktreeReady: pendingWorktree.ready }),
      });
      const cycle = await runTaskCycle({
        task,
        worktree,
        continuity: new ContinuityFile(workspace.paths.continuityFile, workspace.redactor),
        // Its own verify commands, or the project's gates when it has none; neither: not proven.
        verifyCommand: joinVerifyCommands(taskVerifyCommands(payload, context.projectGates)),
        verifyTimeoutMilliseconds: task.timeoutSeconds * 1000,
        runner: context.runner,
        verifyEnvironment: context.verifyEnvironment,
        maxAttempts: context.roundsPerAttempt,
        agent,
        agentDescription: {
          runId: context.runId,
          runtime: context.source.runtime,
          provider: context.source.provider,
          model: context.source.modelIdFor(tier),
        },
        emit: context.emit,
        // The agent's part is over once its work is verified: its slot goes to the next task.
        onVerified: () => hooks.onAgentDone?.(),
        ...(pendingWorktree === undefined ? {} : { pendingWorktree }),
        signal,
      });
      await pendingWorktree?.ready;
      attempts = cycle.attempts;
      usage = cycle.usage;
      if (cycle.outcome === 'aborted') {
        if (cancelWatch.isCancelled) return 'withdrawn';
        return await release(task, workerId, 'stopped', context, writes);
      }
      // Work that nothing verified is never merged: main only takes verified work.
      if (cycle.outcome === 'failed' || cycle.outcome === 'not_proven') {
        await writes;
        await queue.fail(task.id, workerId, cycle.error ?? 'not verified');
        return 'failed';
      }
      if (cycle.checkpointCommit === null) {
        // Verified with nothing changed: still one checkpoint, so main records that the task ran.
        assertWorktreeIntact(worktree.path);
        await runGit(
          worktree.path,
          [
            ...WITHOUT_AUTO_MAINTENANCE,
            'commit',
            '--quiet',
            '--allow-empty',
            '--no-verify',
            '-m',
            checkpointSubject(task),
          ],
          { env: LOKI_GIT_IDENTITY },
        );
      }
    }

    // (Already called after verification when an agent ran; a reused checkpoint frees the slot here.)
    hooks.onAgentDone?.();
    // Nothing reaches main from a worktree whose .git an agent replaced (see DESIGN.md, Git safety).
    assertWorktreeIntact(worktree.path);
    if (cancelWatch.isCancelled) return 'withdrawn';
    // Checked (and extended) right before the merge: a task this worker no longer holds is not merged.
    await writes;
    await queue.heartbeat(task.id, workerId);
    const merge = await context.mergeQueue.merge({
      taskId: task.id,
      agentType: task.type,
      title: task.title,
      branch: worktree.branch,
      verifyCommands: payload.verifyCommands,
      trailers: {
        [TASK_TRAILER]: task.id,
        ...(payload.resolves === undefined
          ? {}
          : { [RESOLVES_TRAILER]: [payload.resolves, ...payload.alsoResolves].join(', ') }),
      },
      // Asked again right before main moves: a task cancelled (or lost) meanwhile never lands.
      isWithdrawn: async () => !isHeldBy(await queue.get(task.id), workerId),
      signal,
    });
    await writes;
    if (merge.outcome === 'withdrawn') return 'withdrawn';
    if (merge.outcome === 'merged') {
      // The tasks claimed next start from this main: their prompt's file list is read now, not when they start.
      const newMain = context.mergeQueue.mainTip;
      if (newMain !== null) filesOfCommit(workspace.paths.root, newMain).catch(() => undefined);
      context.merged.record(task.id, merge.commit, [
        ...(payload.resolves === undefined ? [] : [payload.resolves]),
        ...payload.alsoResolves,
      ]);
      await queue.complete(task.id, workerId, {
        commit: merge.commit,
        branch: worktree.branch,
        attempts,
        usage,
      });
      context.emit({
        type: 'merge.completed',
        runId: context.runId,
        taskId: task.id,
        data: { commit: merge.commit, previousMain: merge.previousMain, resolves: payload.resolves ?? null },
      });
      return 'merged';
    }
    return await deferToResolution(task, workerId, payload, merge, context);
  } catch (error) {
    // Cancelled: the store already says so; the abort that stopped the work is not a failure.
    if (cancelWatch.isCancelled) return 'withdrawn';
    // The lease next: a task this worker no longer holds is neither released nor failed by it.
    if (lease.signal.aborted || isLeaseLost(error)) {
      return abandon(
        task,
        workerId,
        lease.signal.aborted ? (lease.signal.reason as unknown) : error,
        context,
      );
    }
    if (runContext.signal.aborted) return await release(task, workerId, 'stopped', context, writes);
    if (isLokiError(error) && RUN_STOPPING_FAILURES.has(error.code)) {
      // A bad key, no quota, an unknown model: not this task's fault, and every other task would hit it too.
      await release(task, workerId, `provider error: ${error.message}`, context, writes);
      throw error;
    }
    if (isLokiError(error) && error.code === 'BUDGET_EXHAUSTED') {
      return await release(task, workerId, 'budget cap reached', context, writes).then(
        () => 'budget' as const,
      );
    }
    // A full or read-only disk, a corrupt store: the run stops, and the task is not to blame.
    const workspaceFault = toWorkspaceFault(error, workspace.paths) ?? probeWorkspaceFault(workspace.paths);
    if (workspaceFault !== null) {
      // The fault is the error to report; putting the task back may fail because of that same fault.
      await release(task, workerId, workspaceFault.message, context, writes).catch(() => 'released');
      throw workspaceFault;
    }
    // An open breaker or a long rate limit: the task waits in the queue, holding no worker, no attempt counted.
    const wait = queueWaitOf(error);
    if (wait !== null) return await release(task, workerId, wait.reason, context, writes, wait.notBefore);
    const message = describeError(error);
    await writes;
    try {
      await queue.fail(task.id, workerId, message);
    } catch (failError) {
      if (isLeaseLost(failError)) return abandon(task, workerId, failError, context);
      throw new LokiError(
        `task ${task.id} failed (${message}) and could not be recorded as failed: ${describeError(failError)}`,
        { code: 'TASK_FAIL_UNRECORDED', category: 'internal', cause: failError },
      );
    }
    return 'failed';
  } finally {
    clearInterval(heartbeat);
    await pendingWorktree?.ready.catch(() => undefined);
    if (worktree !== null) await removeTaskWorktree(worktree);
  }
}

/** The files of the last commit asked for, kept: the tasks that start together share one main. */
let listedCommit: { commit: string; files: Promise<string[]> } | null = null;

function filesOfCommit(repositoryRoot: string, commit: string): Promise<string[]> {
  if (listedCommit?.commit !== commit) {
    const files = runGit(repositoryRoot, ['ls-tree', '-r', '--name-only', commit]).then((result) =>
      result.stdout.split('\n').filter((line) => line.length > 0),
    );
    listedCommit = { commit, files };
    files.catch(() => {
      if (listedCommit?.files === files) listedCommit = null;
    });
  }
  return listedCommit.files;
}

function checkpointSubject(task: Task): string {
  return checkpointMessage({ agentType: task.type, taskId: task.id, title: task.title });
}

async function mainCommit(context: TaskWorkerContext): Promise<string> {
  const root = context.workspace.paths.root;
  const gitDirectory = plainGitDirectory(root);
  const loose =
    gitDirectory === undefined ? undefined : readLooseRef(gitDirectory, `refs/heads/${context.mainBranch}`);
  if (loose !== undefined) return loose;
  const result = await runGit(root, ['rev-parse', `refs/heads/${context.mainBranch}`]);
  return result.stdout.trim();
}

/**
 * True when the branch already ends in this task's verified checkpoint that main does not hold: a
 * run died between verification and merge. That work is kept, not redone.
 */
async function hasPendingCheckpoint(
  worktree: TaskWorktree,
  task: Task,
  context: TaskWorkerContext,
): Promise<boolean> {
  const subject = (await runGit(worktree.path, ['log', '-1', '--format=%s'])).stdout.trim();
  if (subject !== checkpointSubject(task)) return false;
  return !(await isAncestor(worktree.path, 'HEAD', `refs/heads/${context.mainBranch}`));
}

async function isAncestor(cwd: string, commit: string, of: string): Promise<boolean> {
  const result = await runGit(cwd, ['merge-base', '--is-ancestor', commit, of], { allowFailure: true });
  return result.exitCode === 0;
}

/**
 * A resolution task starts from main with the rejected task's changes brought in as one squashed
 * change, conflict markers included; its agent resolves them and the harness verifies.
 */
async function bringInResolvedWork(
  worktree: TaskWorktree,
  resolvedTaskId: string,
  signal: AbortSignal,
): Promise<void> {
  await runGit(
    worktree.path,
    ['-c', 'core.hooksPath=/dev/null', 'merge', '--squash', '--no-verify', taskBranchName(resolvedTaskId)],
    { allowFailure: true, env: LOKI_GIT_IDENTITY, signal },
  );
}

/**
 * Puts the task back in the queue without counting a failure: claimable at once, or from
 * `notBefore`. A failure to do so is thrown (the run stops with it) unless the lease was lost, in
 * which case the task is no longer this worker's to release.
 */
async function release(
  task: Task,
  workerId: string,
  reason: string,
  context: TaskWorkerContext,
  writes: Promise<unknown>,
  notBefore?: number,
): Promise<'released' | 'abandoned'> {
  await writes;
  // Stopped because a heartbeat found the lease lost: the task is another worker's now.
  if (context.signal.aborted && isLeaseLost(context.signal.reason)) {
    return abandon(task, workerId, context.signal.reason, context);
  }
  try {
    await context.workspace.queue.release(task.id, workerId, reason, notBefore);
  } catch (error) {
    if (isLeaseLost(error)) return abandon(task, workerId, error, context);
    throw new LokiError(
      `task ${task.id} could not be put back in the queue (${reason}): ${describeError(error)}`,
      { code: 'TASK_RELEASE_UNRECORDED', category: 'internal', cause: error },
    );
  }
  return 'released';
}

/** This worker lost the task's lease: it drops its work (nothing of it merges) and the run is told why. */
function abandon(task: Task, workerId: string, leaseLost: unknown, context: TaskWorkerContext): 'abandoned' {
  context.emit({
    type: 'task.abandoned',
    runId: context.runId,
    taskId: task.id,
    data: { workerId, reason: `lost its lease (${describeError(leaseLost)}); this worker drops it` },
  });
  return 'abandoned';
}

function isLeaseLost(error: unknown): boolean {
  return isLokiError(error) && error.code === 'TASK_LEASE_LOST';
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function deferToResolution(
  task: Task,
  workerId: string,
  payload: TaskPayload,
  merge: Extract<MergeResult, { outcome: 'conflict' | 'verification_failed' }>,
  context: TaskWorkerContext,
): Promise<TaskWorkOutcome> {
  const depth = task.id.split(RESOLUTION_SUFFIX).length - 1;
  const details =
    merge.outcome === 'conflict'
      ? `merge conflict in ${merge.files.join(', ')}`
      : `re-verification on the rebased result failed: \`${merge.command}\` exited ${merge.exitCode ?? '?'}`;
  if (depth >= (context.maxResolutionDepth ?? 3)) {
    await context.workspace.queue.fail(task.id, workerId, `${details} (resolution depth exhausted)`);
    return 'failed';
  }
  const existing = new Set((await context.workspace.queue.list()).map((candidate) => candidate.id));
  let resolutionId = `${task.id}${RESOLUTION_SUFFIX}`;
  for (let n = 2; existing.has(resolutionId); n += 1) resolutionId = `${task.id}${RESOLUTION_SUFFIX}-${n}`;
  // The engineering agent of the task resolves it, or a backend engineer when the task was not engineering work.
  const type = findAgentType(task.type).swarm === 'engineering' ? task.type : 'eng-backend';
  const evidence = merge.outcome === 'conflict' ? merge.details : merge.outputTail;
  const description = [
    `Bring the work of task ${task.id} ("${task.title}") onto main: its merge was rejected (${details}).`,
    `Your worktree starts from the current main with the changes of branch ${taskBranchName(task.id)} applied as one change` +
      (merge.outcome === 'conflict'
        ? '; the conflicting files contain conflict markers (<<<<<<< … >>>>>>>).'
        : '.'),
    "Resolve it so that both main's changes and the task's intent are kept, remove every conflict marker, and make the verification pass.",
    '',
    `Original task:\n${task.description}`,
    '',
    `What the merge queue saw:\n${evidence.slice(-3000)}`,
  ].join('\n');
  const resolutionTask = {
    id: resolutionId,
    type,
    title: `Resolve the merge of ${task.id}`,
    description,
    priority: Math.min(10, task.priority + 1),
    runId: context.runId,
    maxAttempts: task.maxAttempts,
    timeoutSeconds: task.timeoutSeconds,
    payload: {
      ...payload,
      verifyCommands: [
        ...new Set([
          ...taskVerifyCommands(payload, context.projectGates),
          // The command that refused the merge (often a project gate the task broke) must pass too.
          ...(merge.outcome === 'verification_failed' ? [merge.command] : []),
          // No conflict marker may survive a resolution, whatever the project's own checks say.
          "! git grep -n -I -E '^(<<<<<<<|>>>>>>>)( |$)' -- .",
        ]),
      ],
      resolves: task.id,
      // A resolution of a resolution carries the original task's work too.
      alsoResolves: [...payload.alsoResolves, ...(payload.resolves === undefined ? [] : [payload.resolves])],
      resolution: {
        outcome: merge.outcome,
        details: evidence.slice(-3000),
        files: merge.outcome === 'conflict' ? merge.files : [],
      },
    },
  };
  await context.workspace.queue.defer(task.id, workerId, [resolutionTask], details);
  context.emit({
    type: 'merge.rejected',
    runId: context.runId,
    taskId: task.id,
    data: { outcome: merge.outcome, details, resolutionTaskId: resolutionId },
  });
  return 'deferred';
}

/** Whether `workerId` still holds the task: not cancelled, not reclaimed after a lost lease. */
function isHeldBy(task: Task, workerId: string): boolean {
  return task.status === 'in_progress' && task.claimedBy === workerId;
}
