import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GateContext } from '../../src/gates/index.ts';
import type { CommandRunner } from '../../src/sandbox/index.ts';

/**
 * Tiny node:http apps for the app gates (performance, load, chaos, accessibility), each listening
 * on $PORT at 127.0.0.1 like a real product. The slow and the failing ones fail by a wide margin,
 * so that a loaded machine cannot flip a verdict.
 */
const ACCESSIBLE_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fixture shop</title></head>' +
  '<body><main><h1>Fixture shop</h1><form><label for="q">Search</label><input id="q" name="q"></form>' +
  '<img src="/logo.png" alt="Fixture shop logo"></main></body></html>';

const INACCESSIBLE_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fixture shop</title></head>' +
  '<body><main><h1>Fixture shop</h1><form><input name="q"></form><img src="/logo.png"></main></body></html>';

function server(handler: string, prelude = ''): string {
  return `import { createServer } from 'node:http';
${prelude}
const page = (response, html) => { response.setHeader('content-type', 'text/html; charset=utf-8'); response.end(html); };
createServer(async (request, response) => {
  if (request.url === '/health') { response.end('ok'); return; }
${handler}
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
}

export const APPS = {
  /** Answers at once, an accessible page on `/`. */
  fast: server(`  page(response, ${JSON.stringify(ACCESSIBLE_PAGE)});`),
  /** Every route but the health path takes 400 ms: twice the p99 threshold. */
  slow: server(
    `  await new Promise((resolve) => setTimeout(resolve, 400));\n  page(response, ${JSON.stringify(ACCESSIBLE_PAGE)});`,
  ),
  /** Serves 20 requests a second and answers 503 to the rest: it breaks under ten times 10 rps. */
  overloaded: server(
    `  const second = Math.floor(Date.now() / 1000);
  if (second !== budget.second) { budget.second = second; budget.count = 0; }
  budget.count += 1;
  if (budget.count > 20) { response.statusCode = 503; response.end('overloaded'); return; }
  page(response, ${JSON.stringify(ACCESSIBLE_PAGE)});`,
    'const budget = { second: 0, count: 0 };',
  ),
  /** Takes a lock file at start and frees it only on a clean exit: a crash leaves it behind. */
  lockedAfterCrash: server(
    `  page(response, ${JSON.stringify(ACCESSIBLE_PAGE)});`,
    `import { openSync, rmSync } from 'node:fs';
try { openSync('app.lock', 'wx'); } catch { console.error('app.lock exists: another instance runs'); process.exit(1); }
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => { rmSync('app.lock', { force: true }); process.exit(0); });`,
  ),
  /** An inaccessible page: an image without alt text and an input without a label. */
  inaccessible: server(`  page(response, ${JSON.stringify(INACCESSIBLE_PAGE)});`),
  /** Serves JSON only: no HTML page for the accessibility gate. */
  jsonOnly: server(
    `  response.setHeader('content-type', 'application/json');\n  response.end('{"ok":true}');`,
  ),
} as const;

/**
 * An app with a dependency it starts itself (a second process listening on its own port, as a
 * database would). `survives`: answers 503 when the dependency is gone; otherwise it exits.
 */
export function appWithDependency(survives: boolean): Record<string, string> {
  const dependency = `import { createServer } from 'node:http';
const server = createServer((request, response) => response.end('stock: 3'));
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;
  const onLoss = survives ? 'dependencyPort = null;' : "console.error('dependency lost'); process.exit(1);";
  const app = `import { fork } from 'node:child_process';
import { createServer } from 'node:http';
let dependencyPort = null;
const dependency = fork('dependency.mjs');
dependency.on('message', (port) => { dependencyPort = port; });
dependency.on('exit', () => { ${onLoss} });
createServer(async (request, response) => {
  if (dependencyPort === null) { response.statusCode = 503; response.end('dependency unavailable'); return; }
  try {
    const answer = await fetch('http://127.0.0.1:' + dependencyPort + '/');
    response.end(await answer.text());
  } catch {
    response.statusCode = 503;
    response.end('dependency unavailable');
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
  return { 'dependency.mjs': dependency, 'server.mjs': app };
}

/**
 * Writes an app project: `server.mjs` (and other files), started by `npm start` or, with
 * `architecture`, by a deployment in `.loki/specs/architecture.json` (no npm in between).
 */
export function writeAppProject(
  directory: string,
  files: Record<string, string>,
  options: { architecture?: { startCommand: string; healthPath: string }; withStartScript?: boolean } = {},
): void {
  const scripts = options.withStartScript === false ? {} : { start: 'node server.mjs' };
  writeFileSync(
    join(directory, 'package.json'),
    JSON.stringify({ name: 'app-fixture', private: true, scripts }),
  );
  for (const [name, content] of Object.entries(files)) writeFileSync(join(directory, name), content);
  if (options.architecture !== undefined) {
    mkdirSync(join(directory, '.loki', 'specs'), { recursive: true });
    writeFileSync(
      join(directory, '.loki', 'specs', 'architecture.json'),
      JSON.stringify({ deployment: options.architecture, openapi: null }),
    );
  }
}

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A gate context on `directory` through the real bubblewrap sandbox, Node on its PATH. */
export function appGateContext(directory: string, runner: CommandRunner): GateContext {
  return {
    projectDirectory: directory,
    runner,
    env: { PATH: `${dirname(process.execPath)}:${BASE_PATH}`, HOME: directory },
    timeoutMilliseconds: 120_000,
    earlier: [],
    startedAt: Date.now(),
  };
}

/** `node server.mjs` by the absolute path of the Node running the tests. */
export const NODE_START = { startCommand: `"${process.execPath}" server.mjs`, healthPath: '/health' };
