import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { LokiError } from '../errors/index.ts';
import { isHostAllowed, normalizeHost, refusalMessage } from './network-policy.ts';
import { SandboxErrorCode } from './sandbox-errors.ts';

/** A connection the proxy did not let through, for an event or a log line. */
export interface RefusedConnection {
  host: string;
  port: number;
  /** `CONNECT` for tunnels (HTTPS), else the plain HTTP method. */
  method: string;
  /** What the refused command was told, naming the config key that would allow the host. */
  message: string;
}

export interface AllowListProxyOptions {
  allowedHosts: readonly string[];
  onRefused?: (refused: RefusedConnection) => void;
  /** Where its private folder is made; the socket path must stay under 108 bytes. */
  temporaryDirectory?: string;
}

/**
 * The only way out of a `registries` sandbox: an HTTP proxy on a unix socket (bound into the
 * sandbox, forwarded to a loopback port there) that tunnels CONNECT and forwards plain HTTP
 * requests to allowed hosts only, and refuses everything else with a 403 naming the host.
 *
 * Hand-written because the field's filtering proxy, `@anthropic-ai/sandbox-runtime`, is a
 * process-wide singleton that also wraps commands its own way (see README.md, Network); the
 * filtering itself is small: look at the target host, then pipe bytes.
 *
 * Names are resolved here, on the host, never in the sandbox (which has no DNS).
 */
export class AllowListProxy implements AsyncDisposable {
  /** Private to Loki (mode 0700); holds the socket and whatever else the sandbox must see of the proxy. */
  readonly directory: string;
  readonly socketPath: string;
  readonly #server: ReturnType<typeof createServer>;
  readonly #directory: string;
  readonly #tunnels = new Set<Duplex>();
  #closed: Promise<void> | undefined;

  private constructor(directory: string, server: ReturnType<typeof createServer>, tunnels: Set<Duplex>) {
    this.#directory = directory;
    this.directory = directory;
    this.socketPath = join(directory, 'proxy.sock');
    this.#server = server;
    this.#tunnels = tunnels;
  }

  static async start(options: AllowListProxyOptions): Promise<AllowListProxy> {
    const directory = await mkdtemp(join(options.temporaryDirectory ?? tmpdir(), 'loki-net-'));
    const tunnels = new Set<Duplex>();
    const server = createServer((request, response) => forwardPlainRequest(request, response, options));
    server.on('connect', (request: IncomingMessage, client: Duplex, head: Buffer) => {
      tunnels.add(client);
      client.on('close', () => tunnels.delete(client));
      openTunnel(request, client, head, options, tunnels);
    });
    const proxy = new AllowListProxy(directory, server, tunnels);
    try {
      // A unix socket's path has at most 107 bytes; a deep TMPDIR would exceed it.
      if (Buffer.byteLength(proxy.socketPath) > 107)
        throw new Error(`the socket path ${proxy.socketPath} is too long`);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(proxy.socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await rm(directory, { recursive: true, force: true });
      throw proxyStartError(error);
    }
    return proxy;
  }

  /** Ends every open connection and removes the socket; calling it again waits for the first call. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeAllConnections();
      for (const tunnel of this.#tunnels) tunnel.destroy();
      await closed;
      await rm(this.#directory, { recursive: true, force: true });
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** `CONNECT host:port`: a byte tunnel (HTTPS, git over TLS) if the host is allowed, else a 403. */
function openTunnel(
  request: IncomingMessage,
  client: Duplex,
  head: Buffer,
  options: AllowListProxyOptions,
  tunnels: Set<Duplex>,
): void {
  // A client that resets its connection is gone: there is nobody left to tell.
  client.on('error', () => client.destroy());
  const target = parseAuthority(request.url ?? '');
  if (target === null) {
    client.end(statusReply(400, `Loki's sandbox proxy expected CONNECT host:port, got ${request.url ?? ''}`));
    return;
  }
  if (!isHostAllowed(target.host, options.allowedHosts, target.port)) {
    client.end(statusReply(403, refuse(target.host, target.port, 'CONNECT', options)));
    return;
  }
  const upstream: Socket = connect({ host: target.host, port: target.port });
  tunnels.add(upstream);
  upstream.on('close', () => tunnels.delete(upstream));
  upstream.once('connect', () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (error) => {
    // Before the tunnel is up the client can still be told why; after, only the close says it.
    if (client.writable && upstream.connecting) {
      client.end(
        statusReply(
          502,
          `Loki's sandbox proxy could not reach ${target.host}:${String(target.port)}: ${error.message}`,
        ),
      );
    } else {
      client.destroy();
    }
  });
  client.on('close', () => upstream.destroy());
}

/** A plain HTTP request with an absolute URL (`GET http://host/path`), forwarded if the host is allowed. */
function forwardPlainRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: AllowListProxyOptions,
): void {
  const url = URL.canParse(request.url ?? '') ? new URL(request.url ?? '') : null;
  if (url === null || url.protocol !== 'http:') {
    reply(
      response,
      400,
      `Loki's sandbox proxy forwards http:// URLs and CONNECT tunnels only, got ${request.url ?? ''}`,
    );
    return;
  }
  const host = normalizeHost(url.hostname);
  const port = url.port === '' ? 80 : Number(url.port);
  const method = request.method ?? 'GET';
  if (!isHostAllowed(host, options.allowedHosts, port)) {
    reply(response, 403, refuse(host, port, method, options));
    return;
  }
  const headers = { ...request.headers };
  // Hop-by-hop headers meant for this proxy, not for the server.
  delete headers['proxy-connection'];
  delete headers['proxy-authorization'];
  const upstream = httpRequest(
    { host, port, method, path: `${url.pathname}${url.search}`, headers, agent: false },
    (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      upstreamResponse.pipe(response);
    },
  );
  upstream.on('error', (error) => {
    if (!response.headersSent) {
      reply(response, 502, `Loki's sandbox proxy could not reach ${host}:${String(port)}: ${error.message}`);
    } else {
      response.destroy(error);
    }
  });
  request.pipe(upstream);
}

function refuse(host: string, port: number, method: string, options: AllowListProxyOptions): string {
  const message = refusalMessage(host, port);
  options.onRefused?.({ host, port, method, message });
  return message;
}

/** `host:port` or `[v6]:port`, as CONNECT carries it. */
function parseAuthority(authority: string): { host: string; port: number } | null {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority);
  if (match === null) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return null;
  return { host: normalizeHost(match[1] ?? ''), port };
}

function statusReply(status: number, message: string): string {
  const body = `${message}\n`;
  const reason = status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : 'Bad Gateway';
  return `HTTP/1.1 ${String(status)} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${String(Buffer.byteLength(body))}\r\nConnection: close\r\n\r\n${body}`;
}

function reply(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
  response.end(`${message}\n`);
}

function proxyStartError(cause: unknown): LokiError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new LokiError(
    `Could not start the sandbox's network proxy (${reason}). Set TMPDIR to a short writable folder, or set sandbox.network to none or full.`,
    { code: SandboxErrorCode.proxyFailed, category: 'user', cause },
  );
}
