import { existsSync, lstatSync, mkdirSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import {
  changedTestFiles,
  describeTamperChanges,
  findTampering,
  problemsWithAcceptanceTests,
  QA_AGENT_TYPE,
  readSealedTests,
  readWorktreeFile,
  type SealedTest,
  sealTests,
} from '../../acceptance/index.ts';
import { LokiError } from '../../errors/index.ts';
import { commitCheckpoint, type TaskWorktree } from '../../git/index.ts';
import type { WorkCheck } from '../../runtime/index.ts';
import type { TaskWorkOutcome } from '../task-worker.ts';
import type { TaskAttempt } from './task-attempt.ts';

/**
 * Sealed acceptance tests (DESIGN.md §3, Verification before merge). A QA task writes a task's
 * acceptance tests before it is implemented; Loki seals them in the store. The implementation
 * task's worktree receives them, and its work fails verification if it changed any sealed test.
 * Only a QA task may change one, and that re-seals it.
 */

/**
 * Before the agent: reads the seals, and puts the tests sealed for this task in its worktree,
 * committed on its branch, so the agent works against them and they reach main with its work.
 */
export async function placeAcceptanceTests(attempt: TaskAttempt): Promise<null> {
  const { claim } = attempt;
  if (claim.task.type === QA_AGENT_TYPE) return null;
  attempt.sealedTests = await readSealedTests(claim.context.workspace.store);
  const mine = [...attempt.sealedTests.values()].filter((test) => test.forTaskId === claim.task.id);
  if (mine.length === 0) return null;
  // Nothing touches a worktree still being made; no agent runs yet, so the commit holds only the tests.
  await claim.pendingWorktree?.ready;
  const worktree = claim.requireWorktree();
  const missing = mine.filter((test) => readWorktreeFile(worktree.path, test.path) !== test.content);
  if (missing.length === 0) return null;
  for (const test of missing) writeSealedTest(worktree, test);
  await commitCheckpoint(
    worktree,
    `[Loki] sealed acceptance tests for ${claim.task.id}`,
    claim.context.signal,
  );
  return null;
}

/**
 * The harness check of the agent's work, for the RARV cycle: a QA task writing acceptance tests
 * must write usable ones (that verifies its work: the tests fail until the implementation exists);
 * any other task must leave every sealed test as sealed. Undefined when there is nothing to check.
 */
export function acceptanceCheck(attempt: TaskAttempt): WorkCheck | undefined {
  const { claim, payload } = attempt;
  const worktree = claim.requireWorktree();
  const signal = claim.context.signal;
  if (claim.task.type === QA_AGENT_TYPE) {
    if (payload.acceptanceFor === undefined) return undefined;
    return {
      describe: 'acceptance tests written and sealed',
      verifiesWork: true,
      run: async () => {
        const files = await changedTestFiles(worktree.path, worktree.baseCommit, signal);
        const problems = problemsWithAcceptanceTests(files, payload.requirementIds);
        if (problems.length === 0) return null;
        return {
          error: `the acceptance tests are not usable: ${problems.join('; ')}`,
          prompt: `ACCEPTANCE TESTS NOT USABLE. The harness checked the tests you wrote:\n${problems.map((problem) => `- ${problem}`).join('\n')}\n\nFix them, then call task_complete again.`,
        };
      },
    };
  }
  const sealed = attempt.sealedTests;
  if (sealed === undefined || sealed.size === 0) return undefined;
  return {
    describe: 'sealed acceptance tests unchanged',
    verifiesWork: false,
    run: async () => {
      const changes = await findTampering({
        worktreePath: worktree.path,
        baseCommit: worktree.baseCommit,
        taskId: claim.task.id,
        sealed,
        signal,
      });
      if (changes.length === 0) return null;
      claim.context.emit({
        type: 'acceptance.tampered',
        runId: claim.task.runId,
        taskId: claim.task.id,
        data: { changes },
      });
      const listed = changes.map((change) => `- ${change.path}: ${change.detail}`).join('\n');
      return {
        error: `sealed acceptance tests were changed: ${describeTamperChanges(changes)}`,
        prompt:
          `SEALED ACCEPTANCE TESTS CHANGED. Only a QA task may change them; your work changed:\n${listed}\n\n` +
          'Restore them exactly as they were and make the implementation pass them, then call task_complete again.',
      };
    },
  };
}

/**
 * After a QA task's verified work: its test files are (re)sealed. A QA task writing a task's
 * acceptance tests then ends here, completed: its tests reach main with the implementation (a red
 * test on main would fail every merge until then). Other QA tasks re-seal only when sealing is on.
 */
export async function sealQaWork(attempt: TaskAttempt): Promise<TaskWorkOutcome | null> {
  const { claim, payload } = attempt;
  const { task, context } = claim;
  const acceptanceFor = payload.acceptanceFor ?? null;
  if (task.type !== QA_AGENT_TYPE) return null;
  if (acceptanceFor === null && !context.config.sealedAcceptanceTests) return null;
  const worktree = claim.requireWorktree();
  const files = await changedTestFiles(worktree.path, worktree.baseCommit, context.signal);
  if (files.length > 0) {
    await sealTests(context.workspace.store, {
      runId: task.runId,
      qaTaskId: task.id,
      forTaskId: acceptanceFor,
      files,
    });
  }
  if (acceptanceFor === null) return null;
  attempt.hooks.onAgentDone?.();
  await claim.settled();
  await context.workspace.queue.complete(task.id, claim.workerId, {
    sealed: files.map((file) => file.path),
    branch: worktree.branch,
    attempts: attempt.rounds,
    usage: attempt.usage,
  });
  return 'merged';
}

/** Writes a sealed test into the worktree, never through a symbolic link out of it. */
function writeSealedTest(worktree: TaskWorktree, test: SealedTest): void {
  const target = join(worktree.path, test.path);
  const inside = relative(worktree.path, target);
  if (isAbsolute(test.path) || inside.startsWith('..') || inside === '') throw outsideWorktree(test.path);
  // The nearest folder that exists must resolve inside the worktree before anything is made under it.
  let existing = dirname(target);
  while (!existsSync(existing)) existing = dirname(existing);
  const root = realpathSync(worktree.path);
  const parent = realpathSync(existing);
  if (parent !== root && !parent.startsWith(root + sep)) throw outsideWorktree(test.path);
  mkdirSync(dirname(target), { recursive: true });
  if (existsSync(target) && lstatSync(target).isSymbolicLink()) unlinkSync(target);
  writeFileSync(target, test.content);
}

function outsideWorktree(path: string): LokiError {
  return new LokiError(
    `the sealed test path "${path}" leads outside the task's worktree; it is not written. Re-run the QA task that sealed it`,
    { code: 'SEALED_TEST_PATH_INVALID', category: 'internal', context: { path } },
  );
}
