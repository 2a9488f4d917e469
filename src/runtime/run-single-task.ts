import { join } from 'node:path';
import type { Clock, RandomSource } from '../clock/index.ts';
import type { CircuitBreakerConfig, LokiConfig } from '../config/index.ts';
import { LokiError } from '../errors/index.ts';
import type { NewEvent, RuntimeKind } from '../events/index.ts';
import { createTaskWorktree, removeTaskWorktree, type TaskWorktree } from '../git/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import type { Task } from '../store/index.ts';
import { ContinuityFile, type Workspace } from '../workspace/index.ts';
import { joinVerifyCommands } from './join-verify-commands.ts';
import { runTaskCycle, type TaskCycleResult } from './run-task-cycle.ts';
import { type TaskRetryPolicy, taskRetryPolicy } from './task-retry-policy.ts';
import type { TaskAgent } from './task-agent.ts';

/** What an agent factory gets: the task's worktree, the event sink, and Loki's retry policy with its breakers. */
export interface AgentFactoryContext {
  worktree: TaskWorktree;
  task: Task;
  emit: (event: NewEvent) => void;
  retry: TaskRetryPolicy;
}

export interface RunSingleTaskOptions {
  workspace: Workspace;
  config: LokiConfig;
  breakerConfig: CircuitBreakerConfig;
  clock: Clock;
  random?: RandomSource;
  title: string;
  description?: string;
  type: string;
  /** The task's own verify command (stored in its payload as the orchestrator reads it). */
  verifyCommand: string | null;
  /** What verifies the work when the task has no verify command: the project's gates; none → not proven. */
  projectGates?: readonly string[];
  verifyEnvironment: Readonly<Record<string, string>>;
  provider: string;
  runtime: RuntimeKind;
  modelId: string;
  /** Builds the agent for the task's worktree (its file tools confined to it). */
  createAgent: (context: AgentFactoryContext) => TaskAgent;
  runner: CommandRunner;
  maxAttempts: number;
  /** Also told about every event, e.g. to print progress. */
  onEvent?: (event: NewEvent) => void;
  signal?: AbortSignal;
}

export interface RunSingleTaskResult {
  task: Task;
  worktree: TaskWorktree;
  cycle: TaskCycleResult;
}

/**
 * `loki task run`: one agent on one task in a fresh worktree of the current workspace, through the
 * queue (so the task, its attempts and every event are in the store like any other task).
 */
export async function runSingleTask(options: RunSingleTaskOptions): Promise<RunSingleTaskResult> {
  const { workspace } = options;
  const workerId = `task-run-${process.pid}`;
  const enqueued = await workspace.queue.enqueue({
    type: options.type,
    title: options.title,
    ...(options.description === undefined ? {} : { description: options.description }),
    // The key the orchestrator reads (task-payload.ts), so the command survives a retry by `loki run`.
    payload: options.verifyCommand === null ? null : { verifyCommands: [options.verifyCommand] },
    maxAttempts: 1,
  });
  const task = await workspace.queue.claim({ workerId, taskId: enqueued.id });
  if (task === null) throw new Error(`task ${enqueued.id} could not be claimed right after it was added`);
  await workspace.refreshProjections();

  // Events go to the store in order; a failed append is remembered and reported at the end.
  let writes: Promise<unknown> = Promise.resolve();
  const emit = (event: NewEvent) => {
    writes = writes.then(() => workspace.store.appendEvent(event));
    options.onEvent?.(event);
  };
  // The lease is kept alive while the agent works, so a crash (not a slow agent) is what frees it.
  const heartbeat = setInterval(
    () => {
      writes = writes.then(() => workspace.queue.heartbeat(task.id, workerId));
    },
    Math.max(1000, (task.timeoutSeconds * 1000) / 3),
  );
  heartbeat.unref();

  let worktree: TaskWorktree | null = null;
  try {
    worktree = await createTaskWorktree({
      repositoryRoot: workspace.paths.root,
      worktreesDirectory: join(workspace.paths.lokiDirectory, 'worktrees'),
      taskId: task.id,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const agent = options.createAgent({
      worktree,
      task,
      emit,
      retry: taskRetryPolicy({
        config: options.config,
        breakerConfig: options.breakerConfig,
        clock: options.clock,
        store: workspace.store,
        provider: options.provider,
        agentType: task.type,
        ...(options.random === undefined ? {} : { random: options.random }),
      }),
    });
    const cycle = await runTaskCycle({
      task,
      worktree,
      continuity: new ContinuityFile(workspace.paths.continuityFile, workspace.redactor),
      redactor: workspace.redactor,
      verifyCommand: options.verifyCommand ?? joinVerifyCommands(options.projectGates ?? []),
      verifyTimeoutMilliseconds: task.timeoutSeconds * 1000,
      runner: options.runner,
      verifyEnvironment: options.verifyEnvironment,
      maxAttempts: options.maxAttempts,
      agent,
      agentDescription: {
        runId: null,
        runtime: options.runtime,
        provider: options.provider,
        model: options.modelId,
      },
      emit,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    clearInterval(heartbeat);
    await writes;
    const result = {
      checkpointCommit: cycle.checkpointCommit,
      branch: worktree.branch,
      summary: cycle.summary,
      attempts: cycle.attempts,
      usage: cycle.usage,
    };
    // Unproven work is done (its checkpoint is on the branch) but marked so; the caller says so too.
    const finished =
      cycle.outcome === 'verified' || cycle.outcome === 'not_proven'
        ? await workspace.queue.complete(task.id, workerId, {
            ...result,
            proven: cycle.outcome === 'verified',
          })
        : await workspace.queue.fail(task.id, workerId, cycle.error ?? cycle.outcome);
    return { task: finished, worktree, cycle };
  } catch (error) {
    clearInterval(heartbeat);
    // The run's own error is the one to report; a failed event write after it adds nothing.
    await writes.catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    await workspace.queue.fail(task.id, workerId, message).catch((failError: unknown) => {
      throw new LokiError(`${message} (and the task could not be marked failed: ${String(failError)})`, {
        code: 'TASK_RUN_FAILED',
        category: 'internal',
        cause: error,
      });
    });
    throw error;
  } finally {
    clearInterval(heartbeat);
    if (worktree !== null) await removeTaskWorktree(worktree);
    await workspace.refreshProjections();
  }
}
