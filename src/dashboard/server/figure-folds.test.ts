import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../clock/index.ts';
import type { NewEvent } from '../../events/index.ts';
import { initWorkspace, openWorkspaceStore, workspacePaths } from '../../workspace/index.ts';
import { GatesFold } from './gates-fold.ts';
import { listPastRuns, PastRuns } from './past-runs.ts';
import { readMetrics } from './read-metrics.ts';
import { SharedWorkspace } from './shared-workspace.ts';

let root: string;
let shared: SharedWorkspace;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'loki-figure-folds-'));
  writeFileSync(join(root, 'prd.md'), '# Folds\n');
  await initWorkspace({ root, cwd: root, clock: systemClock, prdPath: 'prd.md' });
  shared = new SharedWorkspace({ cwd: root, env: { HOME: root }, clock: systemClock });
});

afterEach(async () => {
  await shared[Symbol.asyncDispose]();
  rmSync(root, { recursive: true, force: true });
});

/** Appended by a second connection, as the run's own store writes while the dashboard reads. */
async function append(events: readonly NewEvent[]): Promise<void> {
  await using store = await openWorkspaceStore(workspacePaths(root), systemClock);
  for (const event of events) await store.appendEvent(event);
}

const usage = (costUsd: number, tokens: number): NewEvent => ({
  type: 'usage.recorded',
  runId: null,
  taskId: null,
  data: {
    provider: 'scripted',
    model: 'scripted-model',
    inputTokens: tokens,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd,
    isPriceKnown: true,
  },
});
const completed = (taskId: string): NewEvent => ({
  type: 'task.completed',
  runId: null,
  taskId,
  data: { workerId: 'w1', attempt: 1 },
});
const phase = (type: 'phase.entered' | 'phase.exited', name: string): NewEvent =>
  type === 'phase.entered'
    ? { type, runId: null, taskId: null, data: { phase: name } }
    : { type, runId: null, taskId: null, data: { phase: name, outcome: 'passed', details: 'done' } };
const gate = (name: string, verdict: 'pass' | 'fail'): NewEvent => ({
  type: 'gate.evaluated',
  runId: null,
  taskId: null,
  data: {
    gate: name,
    verdict,
    reason: `${name} ${verdict}`,
    commit: 'c0ffee',
    stage: 'qa',
    blocks: true,
    command: null,
    exitCode: null,
    durationMilliseconds: 10,
    counts: null,
    outputExcerpt: '',
  },
});

describe('the figures the server folds forward', () => {
  it('equal a recompute from the whole log after more events arrive, spans closed by later events included', async () => {
    await append([
      phase('phase.entered', 'development'),
      usage(0.5, 100),
      completed('t1'),
      gate('lint', 'fail'),
    ]);
    const workspace = await shared.open();
    const first = await shared.metrics.read(workspace);
    expect(first).toMatchObject({ spentUsd: 0.5, phases: [{ phase: 'development', exitedAt: null }] });
    expect(first.points.at(-1)).toMatchObject({ tasksDone: 1, tokens: 100 });
    expect(await shared.gates.read(workspace)).toMatchObject([{ gate: 'lint', verdict: 'fail' }]);

    await append([usage(0.25, 50), completed('t2'), gate('lint', 'pass'), gate('tests', 'pass')]);
    await append([phase('phase.exited', 'development'), phase('phase.entered', 'qa')]);
    const folded = await shared.metrics.read(workspace);
    expect(folded).toEqual(await readMetrics(workspace));
    expect(folded).toMatchObject({
      spentUsd: 0.75,
      phases: [
        { phase: 'development', outcome: 'passed' },
        { phase: 'qa', exitedAt: null },
      ],
    });
    expect(folded.phases[0]?.exitedAt).not.toBeNull();
    expect(folded.points.map((point) => point.tasksDone)).toEqual([0, 1, 1, 2]);
    // The span handed out before was a copy: the later fold did not change what was sent.
    expect(first.phases[0]?.exitedAt).toBeNull();
    const gates = await shared.gates.read(workspace);
    expect(gates).toEqual(await new GatesFold().read(workspace));
    expect(gates.map(({ gate: name, verdict }) => [name, verdict])).toEqual([
      ['lint', 'pass'],
      ['tests', 'pass'],
    ]);
  });

  it('fold each event once when pages reload at the same time', async () => {
    const workspace = await shared.open();
    await shared.metrics.read(workspace);
    await append([usage(1, 10), completed('t1')]);
    const reads = await Promise.all([1, 2, 3].map(() => shared.metrics.read(workspace)));
    for (const metrics of reads) expect(metrics).toEqual(await readMetrics(workspace));
    expect(reads[0]?.points.map((point) => point.tasksDone)).toEqual([0, 1]);
  });
});

describe('the past runs', () => {
  const reports = () => workspacePaths(root).reportsDirectory;
  const writeReport = (runId: string, summary: string) =>
    writeFileSync(
      join(reports(), `${runId}.json`),
      JSON.stringify({ runId, status: 'completed', exitCode: 0, summary, tasks: ['x'.repeat(1000)] }),
    );

  it('carry only what the page shows, not the whole report', () => {
    mkdirSync(reports(), { recursive: true });
    writeReport('run-a', 'all merged');
    expect(listPastRuns(root)).toEqual([
      { runId: 'run-a', status: 'completed', exitCode: 0, summary: 'all merged' },
    ]);
  });

  it('list a report that appears, read a changed one again and drop a removed one', () => {
    mkdirSync(reports(), { recursive: true });
    const pastRuns = new PastRuns(root);
    writeReport('run-a', 'first');
    expect(pastRuns.list().map((run) => run.summary)).toEqual(['first']);
    writeReport('run-b', 'second');
    writeReport('run-a', 'first, resumed and finished');
    expect(pastRuns.list().map((run) => run.summary)).toEqual(['first, resumed and finished', 'second']);
    rmSync(join(reports(), 'run-b.json'));
    expect(pastRuns.list().map((run) => run.runId)).toEqual(['run-a']);
  });
});
