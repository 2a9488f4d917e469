import { existsSync, readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { z } from 'zod';
import {
  addTask,
  type AppContext,
  cancelTask,
  continueRun,
  listAgents,
  listTasks,
  openAppWorkspace,
  pauseRun,
  prioritizeTask,
  readStatus,
  retryTask,
  showTask,
  stopRun,
} from '../../app/index.ts';
import { isLokiError, usageError } from '../../errors/index.ts';
import { workspacePaths } from '../../workspace/index.ts';
import { errorResponse, parseBody } from './api-errors.ts';
import type { SharedWorkspace } from './shared-workspace.ts';
import { readFigures, readGates, readLogPage, readSnapshot, SNAPSHOT_LOG_EVENTS } from './read-snapshot.ts';

const addTaskBody = z.strictObject({
  type: z.string().min(1),
  title: z.string().min(1).max(500),
  description: z.string().max(20_000).optional(),
  priority: z.number().int().min(1).max(10).optional(),
});
const priorityBody = z.strictObject({ priority: z.number().int().min(1).max(10) });
const cancelBody = z.strictObject({ reason: z.string().max(2000).optional() });

/**
 * The dashboard's JSON API: each route calls one app service (the same the CLI calls) and returns
 * its result as it is. Controls are POSTs with a JSON body: a cross-site form cannot send one, and
 * the guard refuses foreign origins anyway.
 */
export function apiRoutes(context: AppContext, shared: SharedWorkspace): Hono {
  const api = new Hono();
  api.onError((error, c) => errorResponse(c, error));

  api.get('/snapshot', async (c) => c.json(await readSnapshot(shared)));
  api.get('/figures', async (c) => c.json(await readFigures(shared)));
  api.get('/log', async (c) => {
    const before = wholeNumber(c.req.query('before'), 'before');
    const limit =
      c.req.query('limit') === undefined ? SNAPSHOT_LOG_EVENTS : wholeNumber(c.req.query('limit'), 'limit');
    return c.json(await readLogPage(shared, before, limit));
  });
  api.get('/gates', async (c) => c.json(await readGates(shared)));
  api.get('/status', async (c) => c.json(await readStatus(context)));
  api.get('/tasks', async (c) => c.json(await listTasks(context)));
  api.get('/tasks/:id', async (c) => c.json(await showTask(context, c.req.param('id'))));
  api.get('/agents', async (c) => c.json(await listAgents(context)));
  api.get('/metrics', async (c) => c.json(await shared.metrics.read(await shared.open())));
  api.get('/continuity', (c) => {
    const file = workspacePaths(context.cwd).continuityFile;
    return c.json({ markdown: existsSync(file) ? readFileSync(file, 'utf8') : null });
  });
  api.get('/runs', (c) => c.json(shared.pastRuns.list()));

  api.post('/run/pause', async (c) => {
    await using workspace = await openAppWorkspace(context);
    return c.json(await pauseRun({ workspace, requestedBy: 'dashboard' }));
  });
  api.post('/run/continue', async (c) => {
    await using workspace = await openAppWorkspace(context);
    return c.json(await continueRun({ workspace, requestedBy: 'dashboard' }));
  });
  api.post('/run/stop', async (c) => c.json(await requestStop(context), 202));

  api.post('/tasks', async (c) => {
    const body = await parseBody(c, addTaskBody);
    return c.json(await addTask(context, body), 201);
  });
  api.post('/tasks/:id/retry', async (c) => c.json(await retryTask(context, c.req.param('id'))));
  api.post('/tasks/:id/cancel', async (c) => {
    const body = await parseBody(c, cancelBody);
    return c.json(
      await cancelTask(context, c.req.param('id'), body.reason ?? 'cancelled from the dashboard'),
    );
  });
  api.post('/tasks/:id/priority', async (c) => {
    const body = await parseBody(c, priorityBody);
    return c.json(await prioritizeTask(context, c.req.param('id'), body.priority));
  });
  return api;
}

function wholeNumber(text: string | undefined, name: string): number {
  if (text === undefined || !/^\d{1,15}$/.test(text)) {
    throw usageError(
      'DASHBOARD_INVALID_REQUEST',
      `${name} must be a whole number, not "${String(text).slice(0, 40)}"`,
    );
  }
  return Number(text);
}

/**
 * Asks the live run to stop and answers at once: the dashboard may be served by that very run, so
 * it must not wait for the run to let go of the workspace; the page sees it wind down in the
 * events. stopRun with no time to wait records the request, then says the run is still winding down.
 */
async function requestStop(context: AppContext): Promise<{ isRequested: boolean; runId: string | null }> {
  await using workspace = await openAppWorkspace(context);
  try {
    const result = await stopRun({
      workspace,
      requestedBy: 'dashboard',
      clock: context.clock,
      timeoutMilliseconds: 0,
    });
    return { isRequested: result.stopped, runId: result.runId };
  } catch (error) {
    if (isLokiError(error) && error.code === 'RUN_STOP_TIMEOUT' && error.context.isRequested === true) {
      return { isRequested: true, runId: String(error.context.runId) };
    }
    throw error;
  }
}
