/**
 * Chaos at random moments: `loki run` is disrupted again and again at moments drawn from a seeded
 * generator (during planning, mid-task, mid-merge, between phases), each time in one of three ways
 * drawn from the same generator: kill -9 of the loki process alone (a crash, the OOM killer: what it
 * started is left to fend for itself), kill -9 of its whole process group, or a forced stop (Ctrl-C
 * twice). Each is followed by a `loki resume`. The run must still complete with every planned task
 * merged into main exactly once, main green, and nothing left behind: no worktree, no orphan process.
 * test/chaos-aimed.test.ts aims at the moments that hurt most instead.
 *
 * The seed is printed and in every failure message; LOKI_CHAOS_SEED=<seed> replays it and
 * LOKI_CHAOS_ROUNDS=<n> runs the test n times in a row (seeds seed, seed+1, …).
 */
import { describe, expect, it } from 'vitest';
import { expectCompletedRun } from './support/chaos-checks.ts';
import { CHAOS_PROJECT_VERIFY_COMMANDS, CHAOS_TASKS, prepareChaosRun } from './support/chaos-plan.ts';
import { ChaosSession, chaosSeeds, type Disruption, seededRandom } from './support/chaos-run.ts';
import { TempWorkspace } from './support/cli-harness.ts';
import { killProcessesInside } from './support/processes-inside.ts';

const DISRUPTIONS = 10;
const KINDS: readonly Disruption[] = ['kill-process', 'kill-group', 'forced-stop'];
/**
 * Moments are drawn uniformly from this window after the process starts. A process started here
 * runs for several seconds, so every disruption lands in a live run (asserted below).
 */
const EARLIEST_MILLISECONDS = 200;
const LATEST_MILLISECONDS = 1_400;

describe('loki run survives disruptions at random moments', () => {
  it.each(chaosSeeds())(
    `completes after ${DISRUPTIONS} of them, every task merged exactly once (seed %i)`,
    async (seed) => {
      console.log(`run-chaos seed: ${seed} (LOKI_CHAOS_SEED=${seed} replays these moments)`);
      const random = seededRandom(seed);
      using workspace = new TempWorkspace('loki-chaos-');
      const session = new ChaosSession(workspace, prepareChaosRun(workspace), seed);
      try {
        for (let index = 0; index < DISRUPTIONS && !session.hasFinished; index += 1) {
          const afterMilliseconds = Math.round(
            EARLIEST_MILLISECONDS + random() * (LATEST_MILLISECONDS - EARLIEST_MILLISECONDS),
          );
          const disruption = KINDS[Math.floor(random() * KINDS.length)] ?? 'kill-process';
          await session.step({ disruption, afterMilliseconds });
        }
        // Then one plain resume finishes the run.
        if (!session.hasFinished) await session.step({});
        console.log(`run-chaos history:\n${session.history()}`);
        // The chaos really happened: every disruption landed in a live run.
        expect(
          session.steps.filter((step) => step.disruptedAfterMilliseconds !== null),
          session.history(),
        ).toHaveLength(DISRUPTIONS);
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
});
