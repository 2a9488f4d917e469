import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import type { FakeBoard } from './fakes/fake-vibe-kanban-mcp.ts';
import { loki, parseJsonOutput, REPOSITORY_ROOT, TempWorkspace } from './support/cli-harness.ts';

const FAKE = join(REPOSITORY_ROOT, 'test', 'fakes', 'fake-vibe-kanban-mcp.ts');
const PROJECT_ID = '0b6a1e52-6f3c-4f39-9d0e-2f6f3b1e9a01';

interface ExportJson {
  project: { id: string; name: string };
  created: { lokiTaskId: string; vibeKanbanTaskId: string; status: string }[];
  updated: { lokiTaskId: string; status: string }[];
  notMapped: string[];
}

/** A workspace whose queue holds a task in each of Loki's statuses but failed. */
async function workspaceWithTasks(workspace: TempWorkspace): Promise<void> {
  expect((await loki(workspace, ['init'])).exitCode).toBe(0);
  const add = async (id: string, priority: string, extra: string[] = []) => {
    const result = await loki(workspace, [
      'queue',
      'add',
      `Task ${id}`,
      '--type',
      'eng-backend',
      '--id',
      id,
      '--priority',
      priority,
      ...extra,
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
  };
  await add('api', '10');
  await add('docs', '9', ['--max-attempts', '1']);
  await add('ui', '8', ['--depends-on', 'api']);
  await add('later', '2');
  await add('old', '1');
  expect((await loki(workspace, ['queue', 'cancel', 'old'])).exitCode).toBe(0);
  await using opened = await openWorkspace(workspace.root, { clock: systemClock });
  await opened.queue.claim({ workerId: 'worker-1' });
  await opened.queue.complete('api', 'worker-1');
  await opened.queue.claim({ workerId: 'worker-1' });
  await opened.queue.fail('docs', 'worker-1', 'out of ideas');
  await opened.queue.claim({ workerId: 'worker-2' });
}

describe('loki export vibe-kanban (against a fake speaking Vibe Kanban’s MCP task interface)', () => {
  it('creates a card per task with the mapped status, says what it could not map, and updates on a second export', async () => {
    using workspace = new TempWorkspace('loki-vk-');
    await workspaceWithTasks(workspace);
    const boardPath = join(workspace.root, 'board.json');
    const initial: FakeBoard = { projects: [{ id: PROJECT_ID, name: 'shop' }], tasks: [], calls: [] };
    writeFileSync(boardPath, JSON.stringify(initial));
    const exportOnce = async () => {
      const result = await loki(workspace, [
        'export',
        'vibe-kanban',
        '--project',
        'shop',
        '--server',
        `${process.execPath} ${FAKE} ${boardPath}`,
        '--json',
      ]);
      expect(result.exitCode, result.stderr).toBe(0);
      return parseJsonOutput<ExportJson>(result);
    };

    const first = await exportOnce();
    expect(first.project).toEqual({ id: PROJECT_ID, name: 'shop' });
    expect(first.updated).toEqual([]);
    const board = JSON.parse(readFileSync(boardPath, 'utf8')) as FakeBoard;
    const statusOf = (id: string) => board.tasks.find((task) => task.title.endsWith(`[${id}]`))?.status;
    expect(board.tasks).toHaveLength(5);
    expect(Object.fromEntries(['api', 'docs', 'ui', 'later', 'old'].map((id) => [id, statusOf(id)]))).toEqual(
      {
        api: 'done',
        docs: 'inreview',
        ui: 'inprogress',
        later: 'todo',
        old: 'cancelled',
      },
    );
    expect(board.tasks.find((task) => task.title === 'Task ui [ui]')?.description).toContain(
      'depends on: api',
    );
    expect(first.notMapped).toEqual([
      expect.stringMatching(/^dead_letter .* no Vibe Kanban status; shown as inreview: docs$/),
      expect.stringContaining(
        'priority, dependencies, agent type, attempts: Vibe Kanban tasks have no such fields',
      ),
    ]);
    // The documented interface: create_task takes no status, update_task moves the card.
    const created = board.calls.find((call) => call.tool === 'create_task');
    expect(Object.keys(created?.arguments ?? {}).sort()).toEqual(['description', 'project_id', 'title']);

    const second = await exportOnce();
    expect(second.created).toEqual([]);
    expect(second.updated.map((entry) => entry.lokiTaskId).sort()).toEqual([
      'api',
      'docs',
      'later',
      'old',
      'ui',
    ]);
    expect((JSON.parse(readFileSync(boardPath, 'utf8')) as FakeBoard).tasks).toHaveLength(5);
  });

  it('names the projects there are when the one asked for is not there', async () => {
    using workspace = new TempWorkspace('loki-vk-');
    await workspaceWithTasks(workspace);
    const boardPath = join(workspace.root, 'board.json');
    writeFileSync(
      boardPath,
      JSON.stringify({ projects: [{ id: PROJECT_ID, name: 'shop' }], tasks: [], calls: [] }),
    );
    const result = await loki(workspace, [
      'export',
      'vibe-kanban',
      '--project',
      'blog',
      '--server',
      `${process.execPath} ${FAKE} ${boardPath}`,
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no Vibe Kanban project "blog"; its projects: shop');
  });
});
