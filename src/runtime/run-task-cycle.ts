import type { AgentStartedData, NewEvent } from '../events/index.ts';
import { checkpointMessage, commitCheckpoint, rollbackWorktree, type TaskWorktree } from '../git/index.ts';
import type { CommandRunner, Redactor } from '../sandbox/index.ts';
import type { Task } from '../store/index.ts';
import type { ContinuityFile } from '../workspace/index.ts';
import { addUsageTotals, emptyUsageTotals, type UsageTotals } from '../providers/index.ts';
import type { TaskAgent } from './task-agent.ts';
import { findSecretsInWork } from './find-secrets-in-work.ts';
import { buildTaskPrompt } from './task-prompt.ts';

export interface TaskCycleOptions {
  task: Task;
  worktree: TaskWorktree;
  continuity: ContinuityFile;
  /**
   * Run by the harness after the agent says it is done. Null: nothing verifies the task (no verify
   * command of its own and no project gates); its work is then checkpointed but reported as
   * `not_proven`, never as verified.
   */
  verifyCommand: string | null;
  verifyTimeoutMilliseconds: number;
  runner: CommandRunner;
  /** Environment for the verify command (explicit: secrets are not passed on). */
  verifyEnvironment: Readonly<Record<string, string>>;
  /** Agent rounds (each ending in a verification) before the worktree is rolled back and the task fails. */
  maxAttempts: number;
  /** Knows the secrets that must never be committed (the same one that redacts every sink). */
  redactor: Redactor;
  /** Who does the work: Loki's tool loop over a model, or an agent CLI. */
  agent: TaskAgent;
  /** What `agent.started` says of the agent (its type is the task's), and the run it works for. */
  agentDescription: Omit<AgentStartedData, 'agentType'> & { runId: string | null };
  emit: (event: NewEvent) => void;
  /**
   * A harness check of the work, run after the secrets check and before the verify command (sealed
   * acceptance tests): a finding goes back to the agent like a failed verification. With
   * `verifiesWork`, passing it verifies work that has no verify command (a QA task's tests, which
   * must fail until the implementation exists, are checked, not run).
   */
  checkWork?: WorkCheck;
  /** Told the moment the harness's verification passed, before the checkpoint is committed. */
  onVerified?: () => void;
  /**
   * Set when the worktree is still being created as the agent starts thinking: the prompt lists
   * `files` instead of reading the worktree, and nothing touches the worktree before `ready`.
   */
  pendingWorktree?: { ready: Promise<unknown>; files: readonly string[] };
  /** Added to the first prompt: work the agent must do on top of the task (a review's blocking findings). */
  feedback?: string;
  signal?: AbortSignal;
}

export interface WorkCheck {
  /** What it checks, for the checkpoint's note, e.g. "the sealed acceptance tests". */
  describe: string;
  verifiesWork: boolean;
  /** Null when the work passes; otherwise why (for the task's error) and what the agent is told. */
  run: () => Promise<{ error: string; prompt: string } | null>;
}

export interface TaskCycleResult {
  /** not_proven: the agent finished and its work is checkpointed, but nothing verified it. */
  outcome: 'verified' | 'not_proven' | 'failed' | 'aborted';
  attempts: number;
  checkpointCommit: string | null;
  /** Why it failed or is not proven, for the queue's lastError; null when verified. */
  error: string | null;
  summary: string | null;
  usage: UsageTotals;
}

const OUTPUT_TAIL_CHARACTERS = 4000;

/**
 * RARV on one task: Reason (the prompt from the task, files and CONTINUITY.md), Act (the agent
 * loop in the task's worktree), Reflect (CONTINUITY.md updated), Verify (the harness, not the
 * agent, runs the verify command). A failed verification goes back to the agent and becomes a
 * lesson; after `maxAttempts` the worktree is rolled back to its checkpoint and the task fails.
 */
export async function runTaskCycle(options: TaskCycleOptions): Promise<TaskCycleResult> {
  const { task, worktree, continuity } = options;
  let prompt = buildTaskPrompt({
    task,
    worktree,
    continuity,
    verifyCommand: options.verifyCommand,
    ...(options.pendingWorktree === undefined ? {} : { files: options.pendingWorktree.files }),
  });
  if (options.feedback !== undefined) prompt = `${prompt}\n\n${options.feedback}`;
  continuity.replaceSection('Current Task', `${task.id} (${task.type}): ${task.title}`);
  // The one writer of agent.started: one agent session per attempt, however many rounds it takes.
  options.emit({
    type: 'agent.started',
    runId: options.agentDescription.runId,
    taskId: task.id,
    data: {
      agentType: task.type,
      runtime: options.agentDescription.runtime,
      provider: options.agentDescription.provider,
      model: options.agentDescription.model,
    },
  });
  const totals = emptyUsageTotals();
  let lastError = 'no attempt ran';
  for (let attempt = 1; attempt <= options.maxAttempts; attempt += 1) {
    const result = await options.agent.act({
      prompt,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    addUsageTotals(totals, result.usage);
    await options.pendingWorktree?.ready;
    if (result.reason === 'aborted') {
      return {
        outcome: 'aborted',
        attempts: attempt,
        checkpointCommit: null,
        error: 'aborted',
        summary: null,
        usage: totals,
      };
    }
    if (result.reason !== 'task_complete') {
      lastError = `the agent stopped without completing the task (${result.reason.replace('_', ' ')})`;
      continuity.appendToSection('Mistakes & Learnings', `${task.id} attempt ${attempt}: ${lastError}`);
      prompt = `${lastError}. Continue the task and call task_complete when it is done.`;
      continue;
    }
    const secrets = await refuseSecretsInWork(options, attempt);
    if (secrets !== null) {
      lastError = secrets.error;
      prompt = secrets.prompt;
      continue;
    }
    const finding = (await options.checkWork?.run()) ?? null;
    if (finding !== null) {
      lastError = finding.error;
      continuity.appendToSection('Mistakes & Learnings', `${task.id} attempt ${attempt}: ${lastError}`);
      prompt = finding.prompt;
      continue;
    }
    const verifyCommand = options.verifyCommand;
    if (verifyCommand === null && options.checkWork?.verifiesWork === true) {
      options.onVerified?.();
      return await checkpointDone(options, attempt, result.completion, totals, {
        outcome: 'verified',
        note: `verified: ${options.checkWork.describe}`,
        error: null,
      });
    }
    if (verifyCommand === null) return await notProven(options, attempt, result.completion, totals);
    const verification = await verify(options, verifyCommand);
    if (verification.passed) {
      options.onVerified?.();
      return await checkpointDone(options, attempt, result.completion, totals, {
        outcome: 'verified',
        note: `verified: \`${verifyCommand}\``,
        error: null,
      });
    }
    lastError = `verification \`${verifyCommand}\` failed (${verification.describe})`;
    continuity.appendToSection(
      'Mistakes & Learnings',
      `${task.id} attempt ${attempt}: ${lastError}: ${firstMeaningfulLine(verification.output)}`,
    );
    prompt =
      `VERIFICATION FAILED. The harness ran \`${verifyCommand}\` in your worktree and it ${verification.describe}.\n` +
      `Output (last part):\n${verification.output}\n\nFix the cause, check it yourself, then call task_complete again.`;
  }
  // Nothing half-done stays behind: the worktree returns to where the task started.
  await rollbackWorktree(worktree, worktree.baseCommit, options.signal);
  continuity.appendToSection(
    'Mistakes & Learnings',
    `${task.id}: gave up after ${options.maxAttempts} attempts; worktree rolled back. Last error: ${lastError}`,
  );
  return {
    outcome: 'failed',
    attempts: options.maxAttempts,
    checkpointCommit: null,
    error: lastError,
    summary: null,
    usage: totals,
  };
}

/**
 * Work that holds a secret goes back to the agent before anything verifies or commits it: the
 * worktree is what Loki commits and merges, so a key written into it would reach git history.
 * Null when the work is clean.
 */
async function refuseSecretsInWork(
  options: TaskCycleOptions,
  attempt: number,
): Promise<{ error: string; prompt: string } | null> {
  const files = await findSecretsInWork(options.worktree.path, options.redactor, options.signal);
  if (files.length === 0) return null;
  const { task } = options;
  options.emit({ type: 'secret.found', runId: task.runId, taskId: task.id, data: { files } });
  const listed = files.map((file) => `- ${file.path}: ${file.secrets.join(', ')}`).join('\n');
  const error = `the work holds secrets (${files.map((file) => file.path).join(', ')}); nothing was committed`;
  options.continuity.appendToSection('Mistakes & Learnings', `${task.id} attempt ${attempt}: ${error}`);
  return {
    error,
    prompt:
      `SECRETS IN YOUR WORK. These files hold secrets, which must never be committed:\n${listed}\n\n` +
      'Take every secret out of them (read it from the environment at run time instead, or leave a ' +
      'placeholder), check your work, then call task_complete again. Nothing was committed.',
  };
}

export const NOT_PROVEN_REASON =
  'nothing verifies this task: it has no verify command and the project has no gates';

/** The agent is done but nothing can verify its work: kept on the branch, recorded as unproven. */
function notProven(
  options: TaskCycleOptions,
  attempt: number,
  completion: { summary: string } | null,
  totals: UsageTotals,
): Promise<TaskCycleResult> {
  return checkpointDone(options, attempt, completion, totals, {
    outcome: 'not_proven',
    note: 'not proven: nothing verifies it',
    error: NOT_PROVEN_REASON,
  });
}

/** Commits the worktree as the task's checkpoint and records in CONTINUITY.md how the task ended. */
async function checkpointDone(
  options: TaskCycleOptions,
  attempt: number,
  completion: { summary: string } | null,
  totals: UsageTotals,
  ending: { outcome: 'verified' | 'not_proven'; note: string; error: string | null },
): Promise<TaskCycleResult> {
  const { task, continuity } = options;
  const checkpointCommit = await commitCheckpoint(
    options.worktree,
    checkpointMessage({ agentType: task.type, taskId: task.id, title: task.title }),
    options.signal,
  );
  continuity.replaceSection(
    'Just Completed',
    `${task.id} (${task.type}): ${task.title}: ${completion?.summary ?? 'done'} (${ending.note})`,
  );
  continuity.replaceSection('Current Task', '');
  return {
    outcome: ending.outcome,
    attempts: attempt,
    checkpointCommit,
    error: ending.error,
    summary: completion?.summary ?? null,
    usage: totals,
  };
}

async function verify(
  options: TaskCycleOptions,
  command: string,
): Promise<{ passed: boolean; output: string; describe: string }> {
  const result = await options.runner.run({
    command,
    cwd: options.worktree.path,
    writableDirectory: options.worktree.path,
    timeoutMilliseconds: options.verifyTimeoutMilliseconds,
    env: options.verifyEnvironment,
    allowNetwork: false,
    maxOutputBytes: 1_000_000,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const passed = result.exitCode === 0 && !result.timedOut;
  const output = `${result.stdout}\n${result.stderr}`.trim().slice(-OUTPUT_TAIL_CHARACTERS);
  options.emit({
    type: 'verification.ran',
    runId: options.task.runId,
    taskId: options.task.id,
    data: {
      command,
      exitCode: result.exitCode,
      passed,
      durationMilliseconds: Math.round(result.durationMilliseconds),
      outputTail: output.slice(-1000),
    },
  });
  const describe = result.timedOut
    ? `timed out after ${options.verifyTimeoutMilliseconds} ms`
    : `exited with code ${result.exitCode ?? `signal ${result.signal ?? '?'}`}`;
  return { passed, output, describe };
}

function firstMeaningfulLine(output: string): string {
  const line =
    output.split('\n').find((candidate) => /error|fail|assert|expected/i.test(candidate)) ??
    output.split('\n')[0];
  return (line ?? '').trim().slice(0, 300) || '(no output)';
}

/** The rules every agent's system prompt ends with. */
export const HARNESS_RULES = `Rules of the Loki Mode harness:
- You work in your own git worktree; every path is relative to it and you cannot leave it.
- Act through the tools. Do not ask questions: make reasonable assumptions and state them in your summary.
- Keep changes focused on the task. Do not edit files unrelated to it, and never weaken or delete tests to make them pass.
- Commands run in a sandbox with a timeout and usually without network access.
- When the work is done and you have checked it, call task_complete with a summary, the files you changed and the tests you ran. The harness then runs the verification itself; a failure comes back to you.`;

export function buildSystemPrompt(rolePrompt: string): string {
  return `${rolePrompt.trim()}\n\n${HARNESS_RULES}`;
}
