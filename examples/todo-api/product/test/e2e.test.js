import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { send } from './http-client.js';

const SERVER_ENTRY = new URL('../src/server.js', import.meta.url);
const READY_LINE = /listening on http:\/\/127\.0\.0\.1:(\d+) \(ready in (\d+) ms/;

/**
 * Starts `node src/server.js` exactly as `npm start` does, on a free port, and resolves once it
 * prints its ready line. Fails after 10 s, with what the server printed, if it never gets there.
 */
function startServer(dataFile) {
  const child = spawn(process.execPath, [fileURLToPath(SERVER_ENTRY)], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TODO_DATA_FILE: dataFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill();
      reject(new Error(`the server did not get ready within 10 s; it printed:\n${output}`));
    }, 10_000);
    const onData = (chunk) => {
      output += chunk;
      const ready = READY_LINE.exec(output);
      if (ready === null) return;
      clearTimeout(deadline);
      resolve({ child, port: Number(ready[1]), readyMilliseconds: Number(ready[2]) });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`the server exited with ${code} before it was ready; it printed:\n${output}`));
    });
  });
}

function stopServer({ child }) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', resolve);
    child.kill('SIGTERM');
  });
}

describe('todo service end to end', () => {
  let directory;
  let dataFile;
  let server;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'todo-e2e-'));
    dataFile = join(directory, 'todos.json');
    server = await startServer(dataFile);
  });

  after(async () => {
    if (server !== undefined) await stopServer(server);
    rmSync(directory, { recursive: true, force: true });
  });

  it('REQ-006 REQ-009 starts in under a second and reports ready on /health', async () => {
    // The fastest of up to three start-ups: a busy CI machine can stall any single one, and one
    // stall says nothing about the service.
    let fastest = server.readyMilliseconds;
    for (let attempt = 1; attempt < 3 && fastest >= 1000; attempt += 1) {
      const again = await startServer(join(directory, `start-${attempt}.json`));
      fastest = Math.min(fastest, again.readyMilliseconds);
      await stopServer(again);
    }
    assert.ok(fastest < 1000, `ready after ${fastest} ms at best (of up to three start-ups)`);
    const health = await send(server.port, 'GET', '/health');
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok' });
  });

  it('REQ-007 REQ-008 walks a user through the page and every endpoint, and keeps the todos across a restart', async () => {
    const call = (method, path, body) => send(server.port, method, path, body);

    const page = await call('GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<form id="new-todo">/);

    const rejected = await call('POST', '/api/todos', { title: ' ' });
    assert.equal(rejected.status, 400);
    assert.ok(rejected.json.error.length > 0);

    const groceries = (await call('POST', '/api/todos', { title: 'Buy <b>milk</b> & eggs' })).json;
    const laundry = (await call('POST', '/api/todos', { title: 'Do the laundry' })).json;
    assert.deepEqual(
      (await call('GET', '/api/todos')).json.map((todo) => todo.id),
      [laundry.id, groceries.id],
    );

    assert.equal((await call('PATCH', `/api/todos/${groceries.id}`, { completed: true })).status, 200);
    assert.equal((await call('DELETE', `/api/todos/${laundry.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/todos/${laundry.id}`)).status, 404);
    assert.equal((await call('PATCH', `/api/todos/${laundry.id}`, { completed: true })).status, 404);

    const expected = [{ ...groceries, completed: true }];
    assert.deepEqual(JSON.parse(readFileSync(dataFile, 'utf8')), expected);

    await stopServer(server);
    server = await startServer(dataFile);
    assert.deepEqual((await send(server.port, 'GET', '/api/todos')).json, expected);
  });

  it('REQ-009 answers requests in under 50 ms', async () => {
    for (let index = 0; index < 5; index += 1) {
      await send(server.port, 'POST', '/api/todos', { title: `todo ${index}` });
    }
    const durations = [];
    for (let index = 0; index < 21; index += 1) {
      const started = performance.now();
      const response = await send(server.port, 'GET', '/api/todos');
      durations.push(performance.now() - started);
      assert.equal(response.status, 200);
    }
    // The median, not the maximum: a busy CI machine can stall any single request, and one stall
    // says nothing about the service.
    const median = durations.sort((left, right) => left - right)[10];
    assert.ok(median < 50, `median ${median.toFixed(1)} ms over ${durations.length} requests`);
  });
});
