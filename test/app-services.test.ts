import { describe, expect, it } from 'vitest';
import {
  type AppContext,
  addTask,
  cancelTask,
  listTasks,
  prioritizeTask,
  readRunReport,
  readStatus,
  retryTask,
  runWorkspace,
  showTask,
} from '../src/app/index.ts';
import { systemClock } from '../src/clock/index.ts';
import type { LokiEvent } from '../src/events/index.ts';
import { initWorkspace } from '../src/workspace/index.ts';
import { TempWorkspace } from './support/cli-harness.ts';
import { prepareRun } from './support/run-harness.ts';

const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });

function appContext(workspace: TempWorkspace): AppContext {
  return { cwd: workspace.root, env: { ...workspace.env, LOKI_SKIP_PREREQS: 'true' }, clock: systemClock };
}

describe('app services (what the CLI, the dashboard and the MCP server call)', () => {
  it('runs a PRD in process: the observer sees the start and every event in order, then status, queue and report read it back', async () => {
    using workspace = new TempWorkspace();
    prepareRun(workspace, {
      tasks: [
        { id: 'alpha', files: files('alpha') },
        { id: 'beta', files: files('beta'), dependencies: ['alpha'] },
      ],
      verifyCommands: ['test -f files/beta.txt'],
    });
    const context = appContext(workspace);
    const events: LokiEvent[] = [];
    const starts: string[] = [];
    const result = await runWorkspace(
      context,
      { prdPath: 'prd.md', flags: { provider: 'scripted', script: 'session.json', parallel: '2' } },
      { started: (start) => starts.push(start.runId), event: (event) => events.push(event) },
    );

    expect(result.kind).toBe('ended');
    if (result.kind !== 'ended') return;
    expect(result.outcome.status).toBe('completed');
    expect(starts).toEqual([result.outcome.runId]);
    const sequences = events.map((event) => event.sequence);
    expect(sequences).toEqual([...sequences].sort((left, right) => left - right));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(events.filter((event) => event.type === 'merge.completed').map((event) => event.taskId)).toEqual([
      'alpha',
      'beta',
    ]);

    const status = await readStatus(context);
    expect(status.run?.id).toBe(result.outcome.runId);
    expect((await listTasks(context, { statuses: ['completed'] })).map((task) => task.id).sort()).toEqual([
      'alpha',
      'beta',
    ]);
    const shown = await showTask(context, 'beta');
    expect(shown.events.map((event) => event.type)).toContain('task.completed');
    const report = await readRunReport(context);
    expect(report.report.status).toBe('completed');
    expect(report.markdown).toContain(result.outcome.runId);

    // Running the completed workspace again changes nothing and says so.
    expect(
      await runWorkspace(context, {
        prdPath: 'prd.md',
        flags: { provider: 'scripted', script: 'session.json' },
      }),
    ).toEqual({ kind: 'already_completed', runId: result.outcome.runId });
  });

  it('changes the queue through the store: add, prioritise, cancel with what waits on it, retry', async () => {
    using workspace = new TempWorkspace();
    const context = appContext(workspace);
    await initWorkspace({ root: workspace.root, cwd: workspace.root, clock: systemClock });
    const first = await addTask(context, { id: 'first', type: 'eng-backend', title: 'First' });
    await addTask(context, { id: 'second', type: 'eng-backend', title: 'Second', dependencies: ['first'] });
    expect((await prioritizeTask(context, 'first', 9)).priority).toBe(9);
    const cancelled = await cancelTask(context, first.id, 'not needed');
    expect(cancelled.dependents.map((task) => task.id)).toEqual(['second']);
    expect((await retryTask(context, 'first')).status).toBe('pending');
    await expect(addTask(context, { type: 'no-such-agent', title: 'x' })).rejects.toThrow(/no-such-agent/);
    await expect(readRunReport(context)).rejects.toMatchObject({ code: 'RUN_REPORT_MISSING' });
    await expect(readRunReport(context, '../../etc/passwd')).rejects.toMatchObject({
      code: 'CLI_INVALID_OPTION',
    });
  });
});
