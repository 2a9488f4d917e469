import { gateEvaluated } from './support/gate-event.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { type DashboardServer, startDashboard } from '../src/dashboard/server/index.ts';
import { isLokiError } from '../src/errors/index.ts';
import { openWorkspaceStore, workspacePaths } from '../src/workspace/index.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { dashboardRequest, EventStreamReader } from './support/dashboard-client.ts';

const TOKEN = 'test-token-0123456789';

let workspace: TempWorkspace;
let dashboard: DashboardServer;
let cookie: string;

beforeEach(async () => {
  workspace = new TempWorkspace();
  expect((await loki(workspace, ['init'])).exitCode).toBe(0);
  dashboard = await startDashboard({
    context: { cwd: workspace.root, env: workspace.env, clock: systemClock },
    port: 0,
    token: TOKEN,
  });
  cookie = `loki-dashboard-${dashboard.port}=${TOKEN}`;
});

afterEach(async () => {
  await dashboard.close();
  workspace[Symbol.dispose]();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  dashboardRequest(dashboard.port, { path, headers: { cookie, ...headers } });

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  dashboardRequest(dashboard.port, {
    method: 'POST',
    path,
    headers: { cookie, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('the dashboard server', () => {
  it('prints a 127.0.0.1 URL with its token, exchanges the token for an HttpOnly SameSite=Strict cookie and cleans the URL', async () => {
    expect(dashboard.url).toBe(`http://127.0.0.1:${dashboard.port}/?token=${TOKEN}`);
    const wrong = await dashboardRequest(dashboard.port, { path: '/?token=guess' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const opened = await dashboardRequest(dashboard.port, { path: `/?token=${TOKEN}` });
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/');
    expect(opened.headers['set-cookie']).toEqual([
      `loki-dashboard-${dashboard.port}=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`,
    ]);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="importmap">');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
  });

  it('answers 401 to every page and API call without the cookie, and to a wrong cookie', async () => {
    for (const path of [
      '/',
      '/api/status',
      '/api/tasks',
      '/api/events',
      '/assets/main.js',
      '/vendor/preact.mjs',
    ]) {
      const response = await dashboardRequest(dashboard.port, { path });
      expect(response.status, path).toBe(401);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'DASHBOARD_UNAUTHORIZED' } });
    }
    const forged = await dashboardRequest(dashboard.port, {
      path: '/api/status',
      headers: { cookie: `loki-dashboard-${dashboard.port}=${TOKEN.slice(0, -1)}x` },
    });
    expect(forged.status).toBe(401);
    const refused = await dashboardRequest(dashboard.port, {
      method: 'POST',
      path: '/api/tasks',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'eng-backend', title: 'sneaked in' }),
    });
    expect(refused.status).toBe(401);
    expect(JSON.parse((await get('/api/tasks')).body)).toEqual([]);
  });

  it('refuses a foreign Host (DNS rebinding) even with the cookie, and answers on localhost', async () => {
    const rebound = await get('/api/status', { host: `attacker.example:${dashboard.port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: 'DASHBOARD_FOREIGN_HOST' } });
    expect((await get('/api/status', { host: `127.0.0.1:${dashboard.port + 1}` })).status).toBe(403);
    expect((await get('/api/status', { host: `localhost:${dashboard.port}` })).status).toBe(200);
  });

  it('refuses a foreign Origin (CSRF): nothing is changed, and no response carries a CORS header', async () => {
    const task = { type: 'eng-backend', title: 'from another site' };
    for (const origin of ['http://attacker.example', `http://127.0.0.1:${dashboard.port + 1}`, 'null']) {
      const refused = await post('/api/tasks', task, { origin });
      expect(refused.status, origin).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'DASHBOARD_FOREIGN_ORIGIN' } });
    }
    expect(JSON.parse((await get('/api/tasks')).body)).toEqual([]);
    const added = await post(
      '/api/tasks',
      { ...task, title: 'from the page' },
      {
        origin: `http://127.0.0.1:${dashboard.port}`,
      },
    );
    expect(added.status).toBe(201);
    expect(added.headers['access-control-allow-origin']).toBeUndefined();
    const tasks = JSON.parse((await get('/api/tasks')).body) as Array<{ title: string }>;
    expect(tasks.map((entry) => entry.title)).toEqual(['from the page']);
  });

  it('steers tasks through the app services and says what is wrong with a bad request', async () => {
    const added = JSON.parse((await post('/api/tasks', { type: 'eng-backend', title: 'one' })).body) as {
      id: string;
    };
    const prioritized = await post(`/api/tasks/${added.id}/priority`, { priority: 9 });
    expect(JSON.parse(prioritized.body)).toMatchObject({ id: added.id, priority: 9 });
    const cancelled = await post(`/api/tasks/${added.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    const shown = JSON.parse((await get(`/api/tasks/${added.id}`)).body) as {
      task: { status: string };
      events: Array<{ type: string }>;
    };
    expect(shown.task.status).toBe('cancelled');
    expect(shown.events.map((event) => event.type)).toContain('task.cancelled');
    const invalid = await post('/api/tasks', { type: 'eng-backend', title: 'x', priority: 11 });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.body)).toMatchObject({ error: { code: 'DASHBOARD_INVALID_REQUEST' } });
    const unknown = await post('/api/tasks/no-such-task/retry', {});
    expect(unknown.status).toBe(404);
    const noRun = await post('/api/run/pause', {});
    expect(noRun.status).toBe(404);
    expect(JSON.parse(noRun.body).error.message).toMatch(/no run to pause/);
  });

  it('streams events with their sequence as id, live, and resumes after Last-Event-ID with nothing lost or repeated', async () => {
    const first = new EventStreamReader(dashboard.port, { cookie });
    expect((await first.next()).event).toBe('ready');
    const initialized = await first.next();
    expect(initialized.id).toBe('1');
    expect(JSON.parse(initialized.data)).toMatchObject({ sequence: 1, type: 'workspace.initialized' });
    await post('/api/tasks', { type: 'eng-backend', title: 'first' });
    const live = await first.next();
    expect(JSON.parse(live.data)).toMatchObject({ type: 'task.enqueued' });
    const lastSeen = Number(live.id);
    first[Symbol.dispose]();

    // Events recorded while the page was away arrive on reconnection, after the last one it saw.
    await post('/api/tasks', { type: 'eng-backend', title: 'second' });
    await post('/api/tasks', { type: 'eng-backend', title: 'third' });
    using resumed = new EventStreamReader(dashboard.port, { cookie, 'last-event-id': String(lastSeen) });
    expect(await resumed.next()).toMatchObject({ event: 'ready', data: String(lastSeen) });
    const titles: string[] = [];
    const ids: number[] = [];
    while (titles.length < 2) {
      const message = await resumed.next();
      ids.push(Number(message.id));
      const event = JSON.parse(message.data) as { type: string; data: { title?: string } };
      if (event.type === 'task.enqueued') titles.push(event.data.title ?? '');
    }
    expect(titles).toEqual(['second', 'third']);
    expect(ids[0]).toBe(lastSeen + 1);
    expect(ids).toEqual([...ids].sort((left, right) => left - right));
  });

  it('sends one snapshot: the figures, the newest events up to its sequence, and older events page by page on demand', async () => {
    await using store = await openWorkspaceStore(workspacePaths(workspace.root), systemClock);
    for (let index = 0; index < 450; index += 1) {
      await store.appendEvent({
        type: 'agent.text',
        runId: null,
        taskId: null,
        data: { text: `line ${index}` },
      });
    }
    const snapshot = JSON.parse((await get('/api/snapshot')).body) as {
      sequence: number;
      tasks: unknown[];
      gates: unknown[];
      status: { queue: object };
      log: { events: Array<{ sequence: number }>; hasOlder: boolean; nextBefore: number };
    };
    // 1 (workspace.initialized) + 450.
    expect(snapshot.sequence).toBe(451);
    expect(snapshot).toMatchObject({ tasks: [], gates: [], status: { queue: { pending: 0 } } });
    const sequences = (events: Array<{ sequence: number }>) => events.map((event) => event.sequence);
    expect(sequences(snapshot.log.events)).toEqual(range(252, 451));
    expect(snapshot.log).toMatchObject({ hasOlder: true, nextBefore: 252 });

    const older = JSON.parse((await get('/api/log?before=252&limit=200')).body) as typeof snapshot.log;
    expect(sequences(older.events)).toEqual(range(52, 251));
    const oldest = JSON.parse((await get('/api/log?before=52&limit=200')).body) as typeof snapshot.log;
    expect(sequences(oldest.events)).toEqual(range(1, 51));
    expect(oldest.hasOlder).toBe(false);
    expect((await get('/api/log?before=soon')).status).toBe(400);

    // The stream the page opens after its snapshot starts with the first event after it.
    await store.appendEvent({ type: 'agent.text', runId: null, taskId: null, data: { text: 'after' } });
    using stream = new EventStreamReader(dashboard.port, { cookie }, '/api/events?after=451');
    expect((await stream.next()).event).toBe('ready');
    expect(await stream.next()).toMatchObject({ id: '452' });
  });

  it('answers with the latest verdict of each gate, and none before any gate ran', async () => {
    expect(JSON.parse((await get('/api/gates')).body)).toEqual([]);
    await using store = await openWorkspaceStore(workspacePaths(workspace.root), systemClock);
    const commit = 'a'.repeat(40);
    await store.appendEvent({
      type: 'gate.evaluated',
      runId: null,
      taskId: null,
      data: gateEvaluated({ gate: 'unit-tests', verdict: 'fail', reason: '1 test failed', commit }),
    });
    await store.appendEvent({
      type: 'gate.evaluated',
      runId: null,
      taskId: null,
      data: gateEvaluated({ gate: 'lint', verdict: 'not-proven', reason: 'no linter configured', commit }),
    });
    await store.appendEvent({
      type: 'gate.evaluated',
      runId: null,
      taskId: 'task-1',
      data: gateEvaluated({
        gate: 'unit-tests',
        verdict: 'pass',
        reason: '3 tests passed',
        commit,
        counts: { passed: 3, failed: 0, skipped: 0, framework: 'vitest' },
      }),
    });
    const gates = JSON.parse((await get('/api/gates')).body) as unknown[];
    expect(gates).toEqual([
      expect.objectContaining({ gate: 'lint', verdict: 'not-proven', taskId: null }),
      expect.objectContaining({
        gate: 'unit-tests',
        verdict: 'pass',
        reason: '3 tests passed',
        counts: { passed: 3, failed: 0, skipped: 0, framework: 'vitest' },
        taskId: 'task-1',
      }),
    ]);
    expect(JSON.parse((await get('/api/figures')).body)).toMatchObject({ gates });
  });

  it('answers a malformed Last-Event-ID with 400 and what is wrong', async () => {
    const response = await get('/api/events', { 'last-event-id': 'yesterday' });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'DASHBOARD_INVALID_REQUEST', message: '"yesterday" is not an event sequence number' },
    });
  });

  it('refuses a busy port with an error naming --port, and leaves the dashboard holding it alone', async () => {
    const error = await startDashboard({
      context: { cwd: workspace.root, env: workspace.env, clock: systemClock },
      port: dashboard.port,
    }).catch((caught: unknown) => caught);
    expect(isLokiError(error) && error.code).toBe('DASHBOARD_PORT_BUSY');
    expect((error as Error).message).toMatch(/port \d+ on 127\.0\.0\.1 is already in use.*--port/);
    expect((await get('/api/status')).status).toBe(200);
  });

  it('moves to a free port when the port nobody chose is busy, and says which port was busy', async () => {
    await using second = await startDashboard({
      context: { cwd: workspace.root, env: workspace.env, clock: systemClock },
      port: dashboard.port,
      whenPortBusy: 'use a free port',
      token: TOKEN,
    });
    expect(second.port).not.toBe(dashboard.port);
    expect(second.busyPort).toBe(dashboard.port);
    expect(dashboard.busyPort).toBeNull();
    const response = await dashboardRequest(second.port, {
      path: '/api/status',
      headers: { cookie: `loki-dashboard-${second.port}=${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect((await get('/api/status')).status).toBe(200);
  });
});

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}
