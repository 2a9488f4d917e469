import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock/index.ts';
import type { PlannedTask } from '../planning/index.ts';
import { initWorkspace, openWorkspace, type Workspace } from '../workspace/index.ts';
import { enqueuePlannedTasks } from './planned-tasks.ts';
import { readTaskPayload } from './task-payload.ts';

const PLAN: PlannedTask[] = [
  {
    id: 'add-todo',
    agentType: 'eng-backend',
    title: 'Add a todo',
    description: 'POST /todos',
    acceptanceCriteria: ['POST /todos returns 201'],
    requirementIds: ['REQ-001'],
    dependencies: [],
    priority: 5,
    complexity: 'moderate',
    verifyCommands: ['npm test'],
    touches: [],
  },
];

describe('enqueuePlannedTasks', () => {
  let root: string;
  let workspace: Workspace;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'loki-planned-'));
    await initWorkspace({ root, clock: systemClock });
    workspace = await openWorkspace(root, { clock: systemClock });
  });
  afterEach(async () => {
    await workspace.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('adds only the planned tasks while sealing is off', async () => {
    await enqueuePlannedTasks(workspace, 'run-1', PLAN, 3);
    expect((await workspace.queue.list()).map((task) => task.id)).toEqual(['add-todo']);
  });

  it('with sealing on, adds the QA task the implementation waits for, once', async () => {
    await enqueuePlannedTasks(workspace, 'run-1', PLAN, 3, undefined, true);
    // A resumed run finds both and adds nothing.
    expect(await enqueuePlannedTasks(workspace, 'run-1', PLAN, 3, undefined, true)).toEqual([]);

    const tasks = new Map((await workspace.queue.list()).map((task) => [task.id, task]));
    expect([...tasks.keys()].sort()).toEqual(['add-todo', 'add-todo-acceptance']);
    expect(tasks.get('add-todo')?.dependencies).toEqual(['add-todo-acceptance']);
    const qa = tasks.get('add-todo-acceptance');
    expect(qa?.type).toBe('eng-qa');
    expect(qa?.description).toMatch(/Acceptance criteria:\n- POST \/todos returns 201/);
    expect(readTaskPayload(qa ?? { id: 'missing', payload: null })).toMatchObject({
      acceptanceFor: 'add-todo',
      requirementIds: ['REQ-001'],
      verifyCommands: [],
      phase: 'development',
    });
  });
});
