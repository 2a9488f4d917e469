import { appendFileSync, chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { proxy } from 'hono/proxy';
import { errorCode } from '../../errors/index.ts';
import { chooseFreePort } from './choose-free-port.ts';
import { SupervisedApp } from './supervised-app.ts';
import { supervisorFiles } from './supervisor-files.ts';
import {
  type Route,
  routeSchema,
  startAppRequestSchema,
  type SupervisorStatus,
} from './supervisor-protocol.ts';
import { TrafficStats } from './traffic-stats.ts';

export interface RunSupervisorOptions {
  workspaceRoot: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** The proxy answers on loopback only: the local target serves the developer's machine. */
const PROXY_HOST = '127.0.0.1';

/**
 * The local target's supervisor: a detached process that outlives `loki`, holding the releases'
 * servers (restarted when they die) behind a reverse proxy on a stable port, steered over a unix
 * socket. Resolves when it has been shut down (control request or SIGTERM) and everything it started
 * has stopped.
 */
export async function runSupervisor(options: RunSupervisorOptions): Promise<void> {
  const files = supervisorFiles(options.workspaceRoot);
  mkdirSync(files.logsDirectory, { recursive: true });
  const log = (line: string): void => appendFileSync(files.logFile, `${new Date().toISOString()} ${line}\n`);
  const apps = new Map<string, SupervisedApp>();
  const stats = new TrafficStats();
  let route: Route = { active: null, canary: null };

  const proxyServer = createAdaptorServer({ fetch: buildProxy(() => route, apps, stats).fetch }) as Server;
  const proxyPort = await listenOnStablePort(proxyServer, files.portFile, log);

  let resolveShutdown: () => void = () => undefined;
  const shutdownRequested = new Promise<void>((resolve) => (resolveShutdown = resolve));
  const control = new Hono();
  control.get('/status', (c) => c.json(describe()));
  control.post('/apps', async (c) => {
    const request = startAppRequestSchema.parse(await c.req.json());
    let app = apps.get(request.version);
    if (app === undefined) {
      app = new SupervisedApp({
        ...request,
        port: await chooseFreePort(),
        logFile: `${files.logsDirectory}/${request.version}.log`,
        pathVariable: options.env.PATH ?? '/usr/bin:/bin',
        homeDirectory: options.env.HOME,
        log,
      });
      apps.set(request.version, app);
      app.start();
      log(`${request.version}: started on port ${String(app.port)}`);
    }
    return c.json(app.describe());
  });
  control.delete('/apps/:version', async (c) => {
    const version = c.req.param('version');
    if (route.active === version || route.canary?.version === version) {
      return c.json({ error: `${version} takes traffic; route it away first` }, 409);
    }
    await apps.get(version)?.stop();
    apps.delete(version);
    log(`${version}: stopped`);
    return c.json(describe());
  });
  control.put('/route', async (c) => {
    const next = routeSchema.parse(await c.req.json());
    for (const version of [next.active, next.canary?.version]) {
      if (version !== null && version !== undefined && !apps.has(version)) {
        return c.json({ error: `${version} is not running` }, 409);
      }
    }
    // The switch is one assignment: every request after it is routed by the new table, requests
    // already forwarded finish on the release they reached (it keeps running).
    route = next;
    log(`route: ${JSON.stringify(route)}`);
    return c.json(describe());
  });
  control.post('/traffic/reset', (c) => {
    stats.reset();
    return c.json(describe());
  });
  control.post('/shutdown', (c) => {
    resolveShutdown();
    return c.json({ stopping: true });
  });
  control.onError((error, c) => c.json({ error: error.message }, 400));

  function describe(): SupervisorStatus {
    return {
      pid: process.pid,
      proxyPort,
      route,
      apps: [...apps.values()].map((app) => app.describe()),
      traffic: stats.snapshot(),
    };
  }

  const controlServer = createAdaptorServer({ fetch: control.fetch }) as Server;
  rmSync(files.socket, { force: true });
  controlServer.listen(files.socket);
  await once(controlServer, 'listening');
  chmodSync(files.socket, 0o600);
  writeFileSync(files.pidFile, `${String(process.pid)}\n`);
  log(`supervisor ${String(process.pid)} serving http://${PROXY_HOST}:${String(proxyPort)}`);

  const onSignal = (): void => resolveShutdown();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await shutdownRequested;
  log('shutting down');
  route = { active: null, canary: null };
  await Promise.all([...apps.values()].map((app) => app.stop()));
  proxyServer.closeAllConnections();
  controlServer.closeAllConnections();
  await Promise.all([closeServer(proxyServer), closeServer(controlServer)]);
  rmSync(files.socket, { force: true });
  rmSync(files.pidFile, { force: true });
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  log('stopped');
}

/**
 * The reverse proxy: each request goes to the active release, or with the canary's share to the
 * canary, through hono's proxy helper (it drops hop-by-hop headers and streams bodies both ways).
 */
function buildProxy(currentRoute: () => Route, apps: Map<string, SupervisedApp>, stats: TrafficStats): Hono {
  const app = new Hono();
  app.all('*', async (c) => {
    const route = currentRoute();
    const version =
      route.canary !== null && Math.random() * 100 < route.canary.percent
        ? route.canary.version
        : route.active;
    const target = version === null ? undefined : apps.get(version);
    if (version === null || target === undefined) return c.text('No release is live.\n', 503);
    const url = new URL(c.req.url);
    const startedAt = performance.now();
    try {
      const response = await proxy(
        `http://${PROXY_HOST}:${String(target.port)}${url.pathname}${url.search}`,
        {
          raw: c.req.raw,
          headers: {
            ...c.req.header(),
            'x-forwarded-host': c.req.header('host'),
            'x-forwarded-proto': 'http',
          },
        },
      );
      stats.record(version, response.status >= 500, performance.now() - startedAt);
      return response;
    } catch (error) {
      // The release did not answer (restarting, crashed): the client gets a 502, the canary counts it.
      stats.record(version, true, performance.now() - startedAt);
      return c.text(
        `Release ${version} did not answer: ${error instanceof Error ? error.message : String(error)}\n`,
        502,
      );
    }
  });
  return app;
}

/** The port kept from an earlier supervisor when it is still free, so the product's URL does not change. */
async function listenOnStablePort(
  server: Server,
  portFile: string,
  log: (line: string) => void,
): Promise<number> {
  const saved = readSavedPort(portFile);
  for (const port of saved === null ? [0] : [saved, 0]) {
    try {
      server.listen(port, PROXY_HOST);
      await once(server, 'listening');
      const bound = (server.address() as AddressInfo).port;
      writeFileSync(portFile, `${String(bound)}\n`);
      return bound;
    } catch (error) {
      if (errorCode(error) !== 'EADDRINUSE' || port === 0) throw error;
      log(`port ${String(port)} is taken now; the proxy moves to a new port`);
    }
  }
  throw new Error('unreachable: listening on port 0 either succeeds or throws');
}

function readSavedPort(portFile: string): number | null {
  try {
    const port = Number(readFileSync(portFile, 'utf8').trim());
    return Number.isInteger(port) && port > 0 && port < 65_536 ? port : null;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
