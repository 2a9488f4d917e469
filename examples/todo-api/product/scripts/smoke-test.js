// Checks that a deployed todo service is up: GET /health answers {"status":"ok"} and the page is
// served. With a base URL (`node scripts/smoke-test.js http://todo.internal:3000`) it checks that
// deployment; without one it starts `node src/server.js` on a free port with a throw-away data file,
// checks it and stops it. Exits 0 when healthy, 1 otherwise.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const READY_LINE = /listening on (http:\/\/\S+) /;
const TIMEOUT_MILLISECONDS = 10_000;

function get(url) {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { timeout: TIMEOUT_MILLISECONDS }, (incoming) => {
      let text = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk) => (text += chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode, text }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${url} within 10 s`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function startLocalServer(dataFile) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../src/server.js', import.meta.url))], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TODO_DATA_FILE: dataFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`not ready within 10 s:\n${output}`)),
      TIMEOUT_MILLISECONDS,
    );
    const onData = (chunk) => {
      output += chunk;
      const match = READY_LINE.exec(output);
      if (match === null) return;
      clearTimeout(deadline);
      resolve(match[1]);
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`the server exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { child, ready };
}

async function check(baseUrl) {
  const health = await get(new URL('/health', baseUrl));
  if (health.status !== 200 || health.text !== '{"status":"ok"}') {
    throw new Error(`GET /health answered ${health.status} ${health.text}`);
  }
  const page = await get(new URL('/', baseUrl));
  if (page.status !== 200 || !page.text.includes('<title>Todos</title>')) {
    throw new Error(`GET / answered ${page.status} without the todo page`);
  }
  console.log(`smoke test passed: ${baseUrl} is healthy and serves the page`);
}

const givenUrl = process.argv[2];
if (givenUrl !== undefined) {
  await check(givenUrl).catch((error) => {
    console.error(`smoke test failed: ${error.message}`);
    process.exitCode = 1;
  });
} else {
  const directory = mkdtempSync(join(tmpdir(), 'todo-smoke-'));
  const server = startLocalServer(join(directory, 'todos.json'));
  try {
    await check(await server.ready);
  } catch (error) {
    console.error(`smoke test failed: ${error.message}`);
    process.exitCode = 1;
  } finally {
    server.child.kill();
    rmSync(directory, { recursive: true, force: true });
  }
}
