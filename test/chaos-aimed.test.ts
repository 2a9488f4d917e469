/**
 * Chaos aimed at the moments where a stop hurts most: while git adds a task worktree, inside a
 * merge, inside a batch merge, while main's ref moves, while the projections are written. Each
 * moment is recognised by what precedes it (a file git or Loki creates, an event in the store), not
 * guessed with a sleep; a seeded offset and occurrence pick the exact point. At each moment the
 * run is either killed with kill -9 of its whole process group or force-stopped (Ctrl-C twice), and
 * the next step is a plain `loki resume`. After the last one the run must have completed: exit 0,
 * every task merged exactly once, main green, no worktree and no process left.
 *
 * The seed is printed and in every failure message; LOKI_CHAOS_SEED=<seed> replays it and
 * LOKI_CHAOS_ROUNDS=<n> runs each test n times in a row (seeds seed, seed+1, …).
 */
import { describe, it } from 'vitest';
import {
  batchMerge,
  type ChaosMoment,
  mainMove,
  merge,
  projectionWrite,
  worktreeAdd,
} from './support/chaos-moments.ts';
import { expectCompletedRun } from './support/chaos-checks.ts';
import { CHAOS_PROJECT_VERIFY_COMMANDS, CHAOS_TASKS, prepareChaosRun } from './support/chaos-plan.ts';
import { ChaosSession, chaosSeeds, type Disruption, seededRandom } from './support/chaos-run.ts';
import { TempWorkspace } from './support/cli-harness.ts';
import { killProcessesInside } from './support/processes-inside.ts';

/** The moments, in an order that leaves work for each: a batch needs several tasks still to merge. */
function aimedMoments(random: () => number): ChaosMoment[] {
  const pick = (lowest: number, highest: number) => lowest + Math.floor(random() * (highest - lowest + 1));
  return [
    worktreeAdd(pick(1, 3)),
    batchMerge(pick(0, 100)),
    merge(pick(1, 2), pick(0, 100)),
    mainMove(pick(0, 1)),
    projectionWrite(pick(0, 1)),
  ];
}

describe.each<Disruption>(['kill-group', 'forced-stop'])(
  'loki run survives %s at the moments that hurt',
  (disruption) => {
    it.each(chaosSeeds())(
      'completes after a plain resume, every task merged exactly once (seed %i)',
      async (seed) => {
        console.log(`chaos (${disruption}) seed: ${seed} (LOKI_CHAOS_SEED=${seed} replays it)`);
        using workspace = new TempWorkspace('loki-chaos-');
        const session = new ChaosSession(workspace, prepareChaosRun(workspace), seed);
        try {
          for (const moment of aimedMoments(seededRandom(seed))) {
            await session.step({ disruption, moment });
            if (session.hasFinished) break;
          }
          if (!session.hasFinished) await session.step({});
          console.log(`chaos (${disruption}) history:\n${session.history()}`);
          await expectCompletedRun({
            workspace,
            session,
            plannedTasks: CHAOS_TASKS,
            projectVerifyCommands: CHAOS_PROJECT_VERIFY_COMMANDS,
          });
        } finally {
          session.killAll();
          killProcessesInside(workspace.root);
        }
      },
      300_000,
    );
  },
);
