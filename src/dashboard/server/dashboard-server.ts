import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { AppContext } from '../../app/index.ts';
import { errorCode, LokiError, usageError } from '../../errors/index.ts';
import { errorResponse } from './api-errors.ts';
import { apiRoutes } from './api-routes.ts';
import { type CommitSource, streamEvents } from './event-stream-route.ts';
import { requestGuard } from './request-guard.ts';
import { SharedWorkspace } from './shared-workspace.ts';
import { addWebRoutes, CONTENT_SECURITY_POLICY } from './web-assets.ts';

export const DEFAULT_DASHBOARD_PORT = 57374;

/** The only address the dashboard listens on: it is never reachable from another machine. */
const HOST = '127.0.0.1';

export interface DashboardOptions {
  context: AppContext;
  /** 0 picks a free port (tests). */
  port: number;
  /**
   * A busy `port` is an error naming --port (the default), or, with 'use a free port' (for a port the
   * user did not choose), the dashboard listens on a free port instead and says so in `busyPort`.
   */
  whenPortBusy?: 'refuse' | 'use a free port';
  /** Injected by tests; otherwise 32 random bytes. */
  token?: string;
  /**
   * The commits of the run this process serves (`loki run`): each wakes the event streams, which
   * then poll only once a second. Without it (`loki dashboard`) the streams poll every 50 ms.
   */
  commits?: CommitSource;
  /**
   * How often an event stream reads without a wake-up, instead of the defaults above. Tests set it
   * far out to show that a wake-up alone delivers.
   */
  streamPollMilliseconds?: number;
}

export interface DashboardServer extends AsyncDisposable {
  port: number;
  /** The port asked for, when it was busy and the dashboard moved to `port`; otherwise null. */
  busyPort: number | null;
  /** The address to open, with the token: `http://127.0.0.1:57374/?token=…`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the dashboard of the workspace in `context.cwd` on 127.0.0.1. A busy port is an error
 * that names --port; nothing else is touched (the process holding the port is not ours to end).
 */
export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const connections = new AbortController();
  const shared = new SharedWorkspace(options.context);
  let boundPort = options.port;
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    c.header('content-security-policy', CONTENT_SECURITY_POLICY);
    c.header('x-content-type-options', 'nosniff');
    // The first address holds the token: it must not leave in a Referer.
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-store');
  });
  app.onError((error, c) => errorResponse(c, error));
  app.use(requestGuard({ token, port: () => boundPort }));
  app.get('/api/events', (c) =>
    streamEvents(c, shared, connections.signal, {
      commits: options.commits ?? null,
      pollMilliseconds: options.streamPollMilliseconds ?? null,
    }),
  );
  app.route('/api', apiRoutes(options.context, shared));
  addWebRoutes(app);

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const busyPort = await listenOn(server, options);
  boundPort = (server.address() as AddressInfo).port;
  const close = async () => {
    connections.abort();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Open event streams never end by themselves.
      server.closeAllConnections();
    });
    await shared[Symbol.asyncDispose]();
  };
  return {
    port: boundPort,
    busyPort,
    url: `http://${HOST}:${boundPort}/?token=${token}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Listens on the port asked for, or on a free one where allowed; returns the busy port it left. */
async function listenOn(server: Server, options: DashboardOptions): Promise<number | null> {
  try {
    await listen(server, options.port);
    return null;
  } catch (error) {
    const isBusy = error instanceof LokiError && error.code === 'DASHBOARD_PORT_BUSY';
    if (!isBusy || options.whenPortBusy !== 'use a free port') throw error;
    await listen(server, 0);
    return options.port;
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.removeListener('listening', onListening);
      reject(listenError(error, port));
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, HOST);
  });
}

function listenError(error: Error, port: number): LokiError {
  const code = errorCode(error);
  if (code === 'EADDRINUSE') {
    return usageError(
      'DASHBOARD_PORT_BUSY',
      `port ${port} on ${HOST} is already in use (another loki dashboard?); choose another with --port <n> or LOKI_DASHBOARD_PORT, or run without the dashboard (--no-dashboard)`,
      { port },
    );
  }
  if (code === 'EACCES') {
    return usageError(
      'DASHBOARD_PORT_DENIED',
      `port ${port} may not be used by this user; choose another with --port <n>`,
      {
        port,
      },
    );
  }
  return new LokiError(`the dashboard could not listen on ${HOST}:${port}: ${error.message}`, {
    code: 'DASHBOARD_LISTEN_FAILED',
    category: 'internal',
    cause: error,
  });
}
