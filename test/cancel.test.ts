import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../src/orchestrator/index.ts';
import { lokiProcess, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import {
  extraWorktrees,
  git,
  mergedTaskIds,
  prepareRun,
  readJsonFile,
  reportFiles,
  startLoki,
} from './support/run-harness.ts';

interface ShownTask {
  task: { id: string; status: string; lastError: string | null };
  events: { type: string; data: Record<string, unknown> }[];
}

describe('cancelling a task of a live run', () => {
  it('stops its agent, keeps its work off main, cancels its dependents, and the run ends exit 3', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(
      workspace,
      {
        tasks: [
          { id: 'quick', files: { 'files/quick.txt': 'quick\n' } },
          {
            id: 'slow',
            files: { 'files/slow.txt': 'slow\n' },
            steps: [
              {
                toolCalls: [{ toolName: 'write_file', input: { path: 'files/slow.txt', content: 'slow\n' } }],
              },
              { toolCalls: [{ toolName: 'run_command', input: { command: 'sleep 20' } }] },
              {
                toolCalls: [
                  { toolName: 'task_complete', input: { summary: 'slow', files_changed: [], tests_run: [] } },
                ],
              },
            ],
          },
          { id: 'after-slow', files: { 'files/after.txt': 'after\n' }, dependencies: ['slow'] },
          // Enqueued only when QA starts, after the cancel: it is cancelled then, not left waiting.
          {
            id: 'check-slow',
            phase: 'qa',
            agentType: 'eng-qa',
            files: { 'files/check.txt': 'check\n' },
            dependencies: ['after-slow'],
          },
        ],
      },
      2,
    );
    const run = startLoki(workspace, ['run', 'prd.md', ...args]);
    await run.waitForOutput(/slow started/);

    // Another process, as a user in a second terminal would.
    const cancel = lokiProcess(workspace, ['queue', 'cancel', 'slow', '--reason', 'not needed after all']);
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain('Cancelled slow');
    expect(cancel.stdout).toContain('after-slow');

    const ended = await run.done;
    expect(ended.exitCode, ended.stdout + ended.stderr).toBe(3);
    expect(mergedTaskIds(workspace.root)).toEqual(['quick']);
    expect(git(workspace.root, ['ls-tree', '-r', '--name-only', 'main'])).not.toContain('files/slow.txt');
    expect(extraWorktrees(workspace.root)).toEqual([]);

    const slow = parseJsonOutput<ShownTask>(lokiProcess(workspace, ['queue', 'show', 'slow', '--json']));
    expect(slow.task).toMatchObject({ status: 'cancelled', lastError: 'not needed after all' });
    // Its agent stopped: no verification ran and nothing was merged after the cancel.
    const afterCancel = slow.events.slice(slow.events.findIndex((event) => event.type === 'task.cancelled'));
    expect(afterCancel.map((event) => event.type)).not.toContain('verification.ran');
    expect(afterCancel.map((event) => event.type)).not.toContain('merge.completed');

    const dependent = parseJsonOutput<ShownTask>(
      lokiProcess(workspace, ['queue', 'show', 'after-slow', '--json']),
    );
    expect(dependent.task.status).toBe('cancelled');
    expect(dependent.task.lastError).toContain('slow');
    expect(dependent.events.at(-1)).toMatchObject({ type: 'task.cancelled' });

    const laterPhase = parseJsonOutput<ShownTask>(
      lokiProcess(workspace, ['queue', 'show', 'check-slow', '--json']),
    );
    expect(laterPhase.task).toMatchObject({
      status: 'cancelled',
      lastError: 'cancelled with after-slow, which it waits for',
    });

    const [reportName] = reportFiles(workspace.root).filter((name) => name.endsWith('.json'));
    const report = readJsonFile<RunReport>(
      join(workspace.root, '.loki', 'artifacts', 'reports', reportName ?? ''),
    );
    expect(report).toMatchObject({ status: 'not_verified', exitCode: 3 });
    expect(report.summary).toContain('slow');
    expect(report.summary).toContain('after-slow');
    expect(report.notProven.join('\n')).toContain('task slow (Write slow) is cancelled');
  }, 90_000);
});
