import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSession, type SessionTask } from '../../src/bench/generated-session.ts';
import type { TempWorkspace } from './cli-harness.ts';

const MODEL_LATENCY_MILLISECONDS = 150;
/** How long each task's verification takes when the merge queue runs it. */
const MERGE_VERIFICATION_SECONDS = 0.3;

/**
 * The scripted multi-phase run the chaos tests disrupt: a skeleton (infrastructure), eight features
 * and two that combine them (development), two checks (QA) and a guide (business), each writing one
 * file. Every task's verification is slow in the merge queue's integration worktree only, as a real
 * test suite is slow next to a scripted agent: finished tasks queue up for their merge, and the
 * queue merges them in batches.
 */
export const CHAOS_TASKS: readonly SessionTask[] = [
  chaosTask('skeleton', 'infrastructure'),
  ...Array.from({ length: 8 }, (_, index) => chaosTask(`feature-${index + 1}`, 'development', ['skeleton'])),
  chaosTask('combine-early', 'development', ['feature-1', 'feature-2', 'feature-3']),
  chaosTask('combine-late', 'development', ['combine-early', 'feature-6', 'feature-8']),
  chaosTask('check-unit', 'qa'),
  chaosTask('check-smoke', 'qa'),
  chaosTask('guide', 'business'),
];

/**
 * The project's gates: the file of every task up to QA is on main with its exact content (the gates
 * run at QA and Deployment, before the business phase's work exists).
 */
export const CHAOS_PROJECT_VERIFY_COMMANDS: readonly string[] = CHAOS_TASKS.filter(
  (task) => task.phase !== 'business',
).flatMap((task) =>
  Object.entries(task.files).map(([path, content]) => `grep -qxF '${content.trim()}' '${path}'`),
);

function chaosTask(id: string, phase: SessionTask['phase'], dependencies: string[] = []): SessionTask {
  const path = `${phase}/${id}.txt`;
  return {
    id,
    phase,
    dependencies,
    files: { [path]: `content of ${id}\n` },
    verifyCommands: [
      `case "$(pwd)" in */integration) sleep ${MERGE_VERIFICATION_SECONDS} ;; esac; test -f '${path}'`,
    ],
  };
}

/** Writes prd.md and session.json; returns the flags every `loki run` and `loki resume` of the test passes. */
export function prepareChaosRun(workspace: TempWorkspace, parallel = 4): string[] {
  writeFileSync(join(workspace.root, 'prd.md'), '# Files product\n\nA product made of small text files.\n');
  const session = buildSession({
    tasks: [...CHAOS_TASKS],
    latencyMilliseconds: MODEL_LATENCY_MILLISECONDS,
    verifyCommands: [...CHAOS_PROJECT_VERIFY_COMMANDS],
  });
  writeFileSync(join(workspace.root, 'session.json'), JSON.stringify(session, null, 2));
  return ['--provider', 'scripted', '--script', 'session.json', '--parallel', String(parallel)];
}
