import { describe, expect, it } from 'vitest';
import type { LokiEvent } from '../src/events/index.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun, readEvents } from './support/run-harness.ts';

const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });

function ofType<Type extends LokiEvent['type']>(
  events: readonly LokiEvent[],
  type: Type,
): Extract<LokiEvent, { type: Type }>[] {
  return events.filter((event): event is Extract<LokiEvent, { type: Type }> => event.type === type);
}

/** How many times each task was claimed, and how many agent sessions it had, by task id. */
function claimsAndAgents(events: readonly LokiEvent[]): Record<string, { claims: number; agents: number }> {
  const counts: Record<string, { claims: number; agents: number }> = {};
  for (const event of events) {
    if (event.taskId === null) continue;
    const count = (counts[event.taskId] ??= { claims: 0, agents: 0 });
    if (event.type === 'task.claimed') count.claims += 1;
    if (event.type === 'agent.started') count.agents += 1;
  }
  return counts;
}

describe('run lifecycle events (one writer each)', () => {
  it('records one run.started per session and one run.ended with the outcome, and one agent.started per attempt', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, {
      tasks: [
        { id: 'good', files: files('good') },
        // Fails its verification in every round: dead-lettered after its one attempt.
        { id: 'broken', files: files('broken'), verifyCommands: ['false'] },
      ],
    });
    const flags = ['--max-task-attempts', '1', '--json'];

    const first = await loki(workspace, ['-c', 'baseWait=0', 'run', 'prd.md', ...args, ...flags]);
    expect(first.exitCode, first.stderr).toBe(5);
    const firstEvents = readEvents(first.stdout);
    expect(ofType(firstEvents, 'run.started').map((event) => event.data)).toEqual([
      { prdPath: expect.stringContaining('prd.md') as unknown, resumed: false },
    ]);
    expect(ofType(firstEvents, 'run.ended').map((event) => event.data)).toEqual([
      { status: 'failed', outcome: 'blocked', exitCode: 5 },
    ]);
    // The broken task went through all its RARV rounds in one attempt: one agent session.
    expect(claimsAndAgents(firstEvents)).toEqual({
      good: { claims: 1, agents: 1 },
      broken: { claims: 1, agents: 1 },
    });

    const second = await loki(workspace, ['-c', 'baseWait=0', 'resume', ...args, ...flags]);
    expect(second.exitCode, second.stderr).toBe(5);
    const secondEvents = readEvents(second.stdout);
    expect(ofType(secondEvents, 'run.started').map((event) => event.data)).toEqual([
      { prdPath: expect.stringContaining('prd.md') as unknown, resumed: true },
    ]);
    expect(ofType(secondEvents, 'run.ended').map((event) => event.data)).toEqual([
      { status: 'failed', outcome: 'blocked', exitCode: 5 },
    ]);
    // Every event of the run names it; the run's end is its last event.
    expect(secondEvents.at(-1)?.type).toBe('run.ended');
  }, 60_000);
});
