import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SupervisorClient } from '../../src/deploy/local/supervisor-client.ts';
import type { SupervisorStatus } from '../../src/deploy/local/supervisor-protocol.ts';
import { loki, type TempWorkspace } from './cli-harness.ts';
import { git } from './run-harness.ts';

/**
 * A tiny product for deployment tests: node:http, answers `/` with its version, `/health` with 200
 * (or 503 when unhealthy), `/items` with a list. Degrading, it answers 500 to everything but
 * `/health` after its first five such requests: it passes its smoke requests and fails whatever
 * share of canary traffic reaches it (the proxy picks requests at random: failing one path only
 * would let a small step see none of it). In the modes `page`
 * and `inaccessible`, `/` is an HTML page, accessible or with serious WCAG violations (no language,
 * no title, an image without text); in the mode `slow`, `/` and `/items` answer after 1.5 s.
 */
const SERVER_SOURCE = `const http = require('node:http');
const { version, mode } = require('./release.json');
const PAGES = {
  page: '<!doctype html><html lang="en"><head><title>Version ' + version + '</title></head>' +
    '<body><main><h1>version ' + version + '</h1></main></body></html>',
  inaccessible: '<!doctype html><html><head></head><body><img src="/items">version ' + version + '</body></html>',
};
let servedRequests = 0;
const answer = (request, response) => {
  if (request.url === '/health') {
    response.writeHead(mode === 'unhealthy' ? 503 : 200).end(mode === 'unhealthy' ? 'sick' : 'ok');
  } else if (mode === 'degrading' && ++servedRequests > 5) {
    response.writeHead(500).end('broken');
  } else if (request.url === '/items') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  } else if (PAGES[mode] !== undefined) {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGES[mode]);
  } else {
    response.writeHead(200).end('version ' + version);
  }
};
http.createServer((request, response) => {
  if (mode === 'slow' && request.url !== '/health') setTimeout(() => answer(request, response), 1500);
  else answer(request, response);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const OPENAPI = `openapi: 3.0.3
info: { title: fixture, version: '1' }
paths:
  /health:
    get: { responses: { '200': { description: ok } } }
  /items:
    get: { responses: { '200': { description: ok } } }
  /items/{id}:
    get:
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      responses: { '200': { description: ok } }
`;

/**
 * Writes the product and the architecture's deployment settings; the caller runs `loki init` first.
 * `gates` is gates.yaml (default: only the quick gates at Deployment, so no performance or
 * accessibility gate runs against each release: the tests of those write their own).
 */
export function writeDeployableProduct(
  workspace: TempWorkspace,
  gates = 'qa: [unit-tests]\ndeployment: [unit-tests]\n',
): void {
  mkdirSync(join(workspace.root, '.loki', 'config'), { recursive: true });
  writeFileSync(join(workspace.root, '.loki', 'config', 'gates.yaml'), gates);
  writeFileSync(join(workspace.root, 'server.js'), SERVER_SOURCE);
  const specs = join(workspace.root, '.loki', 'specs');
  mkdirSync(specs, { recursive: true });
  writeFileSync(
    join(specs, 'architecture.json'),
    JSON.stringify({ deployment: { startCommand: 'node server.js', healthPath: '/health' } }),
  );
  writeFileSync(join(specs, 'openapi.yaml'), OPENAPI);
}

/** Commits a new version of the product on main. */
export function commitVersion(workspace: TempWorkspace, version: string, mode = 'ok'): void {
  writeFileSync(join(workspace.root, 'release.json'), JSON.stringify({ version, mode }));
  git(workspace.root, ['add', 'server.js', 'release.json']);
  git(workspace.root, [
    '-c',
    'user.name=t',
    '-c',
    'user.email=t@example.invalid',
    'commit',
    '-qm',
    `version ${version}`,
  ]);
}

/**
 * GET a URL on a new connection; the body, or null when nothing answered 2xx. A new connection
 * each time: the tests block their event loop in `spawnSync`, so a pooled keep-alive socket may
 * have been closed by the server without this process noticing.
 */
export async function fetchText(url: string): Promise<string | null> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve((response.statusCode ?? 500) < 300 ? body : null));
      response.on('error', () => resolve(null));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
  });
}

/** Polls until `condition` holds, failing with `what` after the deadline. */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  condition: (value: T) => boolean,
  deadlineMilliseconds = 30_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMilliseconds;
  for (;;) {
    const value = await read();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} at the deadline`);
    await delay(50);
  }
}

export async function supervisorStatus(workspace: TempWorkspace): Promise<SupervisorStatus | null> {
  return new SupervisorClient(workspace.root).status();
}

/** A load generator: `concurrency` loops of GET requests until stopped; counts answers and failures. */
export function startLoad(
  url: string,
  concurrency = 4,
): { stop: () => Promise<{ ok: number; failed: number; bodies: Set<string>; failures: string[] }> } {
  let running = true;
  const result = { ok: 0, failed: 0, bodies: new Set<string>(), failures: [] as string[] };
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = await response.text();
        if (response.ok) {
          result.ok += 1;
          result.bodies.add(body);
        } else {
          result.failed += 1;
          result.failures.push(`${String(response.status)} ${body}`);
        }
      } catch (error) {
        result.failed += 1;
        result.failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

/**
 * `loki deploy stop` in `directory` when the test ends, passed or failed; declared with `await using`
 * after the workspace, so it runs before the workspace's files are removed. No supervisor or
 * release started by a test outlives it.
 */
export function stopDeploymentAtEnd(workspace: TempWorkspace, directory = workspace.root): AsyncDisposable {
  return {
    [Symbol.asyncDispose]: async () => {
      if (!existsSync(join(directory, '.loki'))) return;
      const stopped = await loki(workspace, ['deploy', 'stop'], { cwd: directory });
      if (stopped.exitCode !== 0) throw new Error(`loki deploy stop failed: ${stopped.stderr}`);
    },
  };
}
