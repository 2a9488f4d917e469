import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../clock/index.ts';
import type { NewEvent } from '../events/index.ts';
import { createTaskWorktree, type TaskWorktree } from '../git/index.ts';
import {
  classifyModelFailure,
  createScriptedLanguageModel,
  priceUsage,
  type ScriptedScriptInput,
} from '../providers/index.ts';
import { createRedactor, PlainRunner } from '../sandbox/index.ts';
import type { Task } from '../store/index.ts';
import { ContinuityFile, continuityTemplate } from '../workspace/index.ts';
import type { ToolCallRequest, ToolOutcome } from './agent-loop.ts';
import { buildSystemPrompt, runTaskCycle, type TaskCycleOptions } from './run-task-cycle.ts';
import { createLoopAgent } from './task-agent.ts';
import { gitOutput } from '../../test/support/git.ts';

const task: Task = {
  id: 'task-7',
  type: 'eng-backend',
  title: 'Make the greeting say good',
  description: 'greeting.txt must contain "good".',
  priority: 5,
  dependencies: [],
  payload: null,
  idempotencyKey: null,
  runId: null,
  status: 'in_progress',
  timeoutSeconds: 600,
  maxAttempts: 3,
  attemptCount: 1,
  failureCount: 0,
  backoffSeconds: 0,
  availableAt: 0,
  createdAt: 0,
  updatedAt: 0,
  claimedBy: 'worker-1',
  claimedAt: 0,
  leaseExpiresAt: null,
  completedAt: null,
  lastError: null,
  result: null,
};

const writeGreeting = (content: string) => ({
  toolName: 'write_file',
  input: { path: 'greeting.txt', content },
});
const complete = { toolName: 'task_complete', input: { summary: 'greeting written' } };

const git = gitOutput;

describe('runTaskCycle (RARV on one task)', () => {
  let repository: string;
  let worktree: TaskWorktree;
  let continuity: ContinuityFile;
  let events: NewEvent[];

  beforeEach(async () => {
    repository = mkdtempSync(join(tmpdir(), 'loki-rarv-'));
    git(repository, 'init', '--quiet', '--initial-branch=main');
    worktree = await createTaskWorktree({
      repositoryRoot: repository,
      worktreesDirectory: join(repository, '.loki', 'worktrees'),
      taskId: task.id,
    });
    continuity = new ContinuityFile(join(repository, 'CONTINUITY.md'), null);
    writeFileSync(continuity.path, continuityTemplate());
    events = [];
  });
  afterEach(() => rmSync(repository, { recursive: true, force: true }));

  function options(script: ScriptedScriptInput, maxAttempts = 3): TaskCycleOptions {
    const clock = new ManualClock();
    const executeTool = async (call: ToolCallRequest): Promise<ToolOutcome> => {
      const input = call.input as { path?: string; content?: string; summary?: string };
      if (call.toolName === 'task_complete') {
        return {
          isError: false,
          output: 'ok',
          completion: { summary: input.summary ?? '', filesChanged: [], testsRun: [] },
        };
      }
      writeFileSync(join(worktree.path, input.path ?? 'x'), input.content ?? '');
      return { isError: false, output: 'written' };
    };
    return {
      task,
      worktree,
      continuity,
      verifyCommand:
        'grep -q good greeting.txt || { echo "assertion failed: greeting is not good"; exit 1; }',
      verifyTimeoutMilliseconds: 10_000,
      runner: new PlainRunner(),
      redactor: createRedactor(),
      verifyEnvironment: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      maxAttempts,
      emit: (event) => events.push(event),
      agentDescription: { runId: null, runtime: 'scripted', provider: 'scripted', model: 'scripted' },
      agent: createLoopAgent(
        {
          model: createScriptedLanguageModel(script),
          provider: 'scripted',
          tools: [
            {
              name: 'write_file',
              description: 'write',
              inputSchema: z.object({ path: z.string(), content: z.string() }),
            },
            { name: 'task_complete', description: 'done', inputSchema: z.object({ summary: z.string() }) },
          ],
          executeTool,
          price: (modelId, usage) => priceUsage(modelId, usage),
          maxSteps: 10,
          retry: {
            settings: { maxRetries: 1, baseWaitMilliseconds: 1, maxWaitMilliseconds: 1 },
            classify: (error) => classifyModelFailure(error, { clock }),
            breakers: [],
            random: () => 0,
            clock,
            sleep: async () => {},
          },
          emit: (event) => events.push(event),
          runId: null,
          taskId: task.id,
        },
        buildSystemPrompt('You are a backend engineer.'),
      ),
    };
  }

  it('sends a failed verification back to the agent, records the lesson, and checkpoints on success', async () => {
    const result = await runTaskCycle(
      options([
        { toolCalls: [writeGreeting('bad')] },
        { toolCalls: [complete] },
        { toolCalls: [writeGreeting('good')] },
        { toolCalls: [complete] },
      ]),
    );
    expect(result).toMatchObject({ outcome: 'verified', attempts: 2, summary: 'greeting written' });
    expect(git(worktree.path, 'log', '-1', '--format=%s')).toBe(
      '[Loki] eng-backend-task-7: Make the greeting say good',
    );
    expect(git(worktree.path, 'show', 'HEAD:greeting.txt')).toBe('good');
    expect(result.checkpointCommit).toBe(git(worktree.path, 'rev-parse', 'HEAD'));

    const lessons = continuity.section('Mistakes & Learnings');
    expect(lessons).toContain('task-7 attempt 1: verification');
    expect(lessons).toContain('assertion failed: greeting is not good');
    expect(continuity.section('Just Completed')).toContain(
      'task-7 (eng-backend): Make the greeting say good',
    );
    expect(continuity.section('Current Task')).toBe('');
    const verifications = events
      .filter((event) => event.type === 'verification.ran')
      .map((event) => event.data);
    expect(verifications.map((data) => ('passed' in data ? data.passed : null))).toEqual([false, true]);
    // Two rounds, one agent session: started once, before its first round; each round finished.
    expect(events[0]).toMatchObject({
      type: 'agent.started',
      taskId: 'task-7',
      data: { agentType: 'eng-backend', runtime: 'scripted', provider: 'scripted', model: 'scripted' },
    });
    expect(events.filter((event) => event.type === 'agent.started')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'agent.finished')).toHaveLength(2);
  });

  it('sends work holding a secret back to the agent and never commits it', async () => {
    const secret = 'svc-7c1e55aa90b24f3d';
    const result = await runTaskCycle({
      ...options([
        { toolCalls: [writeGreeting(`good ${secret}`)] },
        { toolCalls: [complete] },
        { toolCalls: [writeGreeting('good')] },
        { toolCalls: [complete] },
      ]),
      redactor: createRedactor({ env: { SERVICE_TOKEN: secret } }),
    });

    expect(result).toMatchObject({ outcome: 'verified', attempts: 2 });
    expect(git(worktree.path, 'log', '-p', '--all')).not.toContain(secret);
    const found = events.filter((event) => event.type === 'secret.found');
    expect(found.map((event) => event.data)).toEqual([
      { files: [{ path: 'greeting.txt', secrets: ['the value of SERVICE_TOKEN'] }] },
    ]);
    expect(JSON.stringify(events)).not.toContain(secret);
    // Refused before verification: only the clean round was verified.
    expect(events.filter((event) => event.type === 'verification.ran')).toHaveLength(1);
    expect(continuity.section('Mistakes & Learnings')).toContain(
      'task-7 attempt 1: the work holds secrets (greeting.txt); nothing was committed',
    );
  });

  it('rolls the worktree back to its checkpoint after repeated failures', async () => {
    const result = await runTaskCycle(
      options(
        [
          { toolCalls: [writeGreeting('bad')] },
          { toolCalls: [complete] },
          { toolCalls: [writeGreeting('still bad')] },
          { toolCalls: [complete] },
        ],
        2,
      ),
    );
    expect(result.outcome).toBe('failed');
    expect(result.error).toContain('verification');
    expect(existsSync(join(worktree.path, 'greeting.txt'))).toBe(false);
    expect(git(worktree.path, 'rev-parse', 'HEAD')).toBe(worktree.baseCommit);
    expect(readFileSync(continuity.path, 'utf8')).toContain(
      'task-7: gave up after 2 attempts; worktree rolled back',
    );
  });

  it('reports work that nothing verifies as not proven, never as verified', async () => {
    const result = await runTaskCycle({
      ...options([{ toolCalls: [writeGreeting('anything')] }, { toolCalls: [complete] }]),
      verifyCommand: null,
    });
    expect(result).toMatchObject({ outcome: 'not_proven', attempts: 1 });
    expect(result.error).toMatch(/nothing verifies/);
    // The work is kept on the branch for a person to judge; the record says it is unproven.
    expect(result.checkpointCommit).toBe(git(worktree.path, 'rev-parse', 'HEAD'));
    expect(continuity.section('Just Completed')).toContain('not proven');
    expect(events.filter((event) => event.type === 'verification.ran')).toEqual([]);
  });
});
