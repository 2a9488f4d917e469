import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { SessionTask } from '../../src/bench/generated-session.ts';
import type { StoredEvent, StoreEventFollower } from './store-events.ts';

/** The file a gated task's agent waits for in its worktree; it removes it again, so it is never committed. */
const GATE_FILE = '.loki-test-gate';

/**
 * A task whose agent writes its file, then waits (in `run_command`) until the test opens its gate:
 * a task held in progress for exactly as long as a test needs, with no timing guess. Its verify
 * command checks the file, so it merges like any other once let through.
 */
export function gatedTask(id: string, overrides: Partial<SessionTask> = {}): SessionTask {
  const path = `files/${id}.txt`;
  return {
    id,
    files: { [path]: `content of ${id}\n` },
    steps: [
      { toolCalls: [{ toolName: 'write_file', input: { path, content: `content of ${id}\n` } }] },
      {
        toolCalls: [
          {
            toolName: 'run_command',
            input: { command: `until [ -e ${GATE_FILE} ]; do sleep 0.05; done; rm -f ${GATE_FILE}` },
          },
        ],
      },
      {
        toolCalls: [
          {
            toolName: 'task_complete',
            input: { summary: `wrote ${id}`, files_changed: [path], tests_run: [] },
          },
        ],
      },
    ],
    ...overrides,
  };
}

/** Resolves with the first event (appended after this call) for which `isIt` says yes. */
export function nextEvent(
  follower: StoreEventFollower,
  what: string,
  isIt: (event: StoredEvent) => boolean,
  timeoutMilliseconds = 60_000,
): Promise<StoredEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no event ${what} within ${timeoutMilliseconds} ms`)),
      timeoutMilliseconds,
    );
    follower.follow((event) => {
      if (!isIt(event)) return false;
      clearTimeout(timer);
      resolve(event);
      return true;
    });
  });
}

/** Resolves when the agent of `taskId` has called the command that waits at its gate. */
export function gateReached(follower: StoreEventFollower, taskId: string): Promise<StoredEvent> {
  return nextEvent(
    follower,
    `${taskId} at its gate`,
    (event) =>
      event.type === 'agent.tool_called' && event.taskId === taskId && event.data.toolName === 'run_command',
  );
}

/** Lets the gated task `taskId` go on: writes its gate file once its worktree exists. */
export async function openGate(root: string, taskId: string, timeoutMilliseconds = 30_000): Promise<void> {
  const worktree = join(root, '.loki', 'worktrees', taskId);
  const deadline = Date.now() + timeoutMilliseconds;
  while (!existsSync(worktree)) {
    if (Date.now() > deadline) throw new Error(`the worktree of ${taskId} did not appear at ${worktree}`);
    await delay(20);
  }
  writeFileSync(join(worktree, GATE_FILE), '');
}
