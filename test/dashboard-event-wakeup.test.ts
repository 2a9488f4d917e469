import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { type DashboardServer, startDashboard } from '../src/dashboard/server/index.ts';
import type { Store } from '../src/store/index.ts';
import { openWorkspaceStore, workspacePaths } from '../src/workspace/index.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { EventStreamReader, type ServerSentEvent } from './support/dashboard-client.ts';

const TOKEN = 'test-token-0123456789';
/** Far beyond any test's deadline: an event that arrives came through the wake-up, not a poll. */
const NEVER_MILLISECONDS = 600_000;

let workspace: TempWorkspace;
let runStore: Store;
let dashboard: DashboardServer | null = null;

beforeEach(async () => {
  workspace = new TempWorkspace();
  expect((await loki(workspace, ['init'])).exitCode).toBe(0);
  // Plays the run's own connection: `loki run` hands its commits to the dashboard it serves.
  runStore = await openWorkspaceStore(workspacePaths(workspace.root), systemClock);
});

afterEach(async () => {
  await dashboard?.close();
  dashboard = null;
  await runStore[Symbol.asyncDispose]();
  workspace[Symbol.dispose]();
});

function openStream(server: DashboardServer): EventStreamReader {
  return new EventStreamReader(server.port, { cookie: `loki-dashboard-${server.port}=${TOKEN}` });
}

async function nextEvent(stream: EventStreamReader): Promise<{ sequence: number; type: string }> {
  const message: ServerSentEvent = await stream.next();
  return JSON.parse(message.data) as { sequence: number; type: string };
}

describe('the dashboard event stream', () => {
  it('delivers the run’s events when the run’s commits wake it, with no poll to wait for, and what other processes wrote before them in order', async () => {
    dashboard = await startDashboard({
      context: { cwd: workspace.root, env: workspace.env, clock: systemClock },
      port: 0,
      token: TOKEN,
      commits: runStore,
      streamPollMilliseconds: NEVER_MILLISECONDS,
    });
    using stream = openStream(dashboard);
    expect((await stream.next()).event).toBe('ready');
    expect(await nextEvent(stream)).toMatchObject({ sequence: 1, type: 'workspace.initialized' });

    const committed = await runStore.appendEvent({
      type: 'agent.text',
      runId: null,
      taskId: null,
      data: { text: 'woken' },
    });
    expect(await nextEvent(stream)).toMatchObject({ sequence: committed.sequence, type: 'agent.text' });

    // Another process commits unheard; the run's next commit wakes the stream, which reads both.
    expect(
      (await loki(workspace, ['queue', 'add', 'from elsewhere', '--type', 'eng-backend'])).exitCode,
    ).toBe(0);
    const next = await runStore.appendEvent({
      type: 'agent.text',
      runId: null,
      taskId: null,
      data: { text: 'after' },
    });
    const delivered = [await nextEvent(stream), await nextEvent(stream)];
    expect(delivered.map((event) => event.type)).toEqual(['task.enqueued', 'agent.text']);
    expect(delivered.map((event) => event.sequence)).toEqual([committed.sequence + 1, next.sequence]);
  });

  it('follows a workspace that another process writes by polling, without the run’s commits (loki dashboard)', async () => {
    dashboard = await startDashboard({
      context: { cwd: workspace.root, env: workspace.env, clock: systemClock },
      port: 0,
      token: TOKEN,
    });
    using stream = openStream(dashboard);
    expect((await stream.next()).event).toBe('ready');
    expect(await nextEvent(stream)).toMatchObject({ sequence: 1, type: 'workspace.initialized' });
    expect(
      (await loki(workspace, ['queue', 'add', 'from elsewhere', '--type', 'eng-backend'])).exitCode,
    ).toBe(0);
    expect(await nextEvent(stream)).toMatchObject({ sequence: 2, type: 'task.enqueued' });
  });
});
