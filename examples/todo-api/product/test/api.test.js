import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createTodoServer } from '../src/app.js';
import { createTodoStore } from '../src/todo-store.js';
import { send } from './http-client.js';

describe('todo API', () => {
  let directory;
  let dataFile;
  let server;
  let port;
  let serverCount = 0;

  const call = (method, path, body) => send(port, method, path, body);
  const create = async (title) => (await call('POST', '/api/todos', { title })).json;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'todo-api-'));
  });

  after(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  // Every test gets its own data file and server, so no test sees another's todos.
  beforeEach(async () => {
    serverCount += 1;
    dataFile = join(directory, `todos-${serverCount}.json`);
    server = createTodoServer(createTodoStore({ filePath: dataFile }));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = server.address().port;
  });

  afterEach(() => new Promise((resolve) => server.close(resolve)));

  describe('REQ-002 GET /api/todos', () => {
    it('answers 200 with an empty list at first', async () => {
      const response = await call('GET', '/api/todos');
      assert.equal(response.status, 200);
      assert.match(response.headers['content-type'], /^application\/json/);
      assert.deepEqual(response.json, []);
    });

    it('lists todos newest first with id, title, completed and createdAt', async () => {
      await create('first');
      await create('second');
      const response = await call('GET', '/api/todos');
      assert.equal(response.status, 200);
      assert.deepEqual(
        response.json.map((todo) => todo.title),
        ['second', 'first'],
      );
      for (const todo of response.json) {
        assert.deepEqual(Object.keys(todo).sort(), ['completed', 'createdAt', 'id', 'title']);
      }
    });
  });

  describe('REQ-001 POST /api/todos', () => {
    it('answers 201 with the new todo and stores it in the JSON file', async () => {
      const response = await call('POST', '/api/todos', { title: 'Buy milk' });
      assert.equal(response.status, 201);
      assert.equal(response.json.title, 'Buy milk');
      assert.equal(response.json.completed, false);
      assert.equal(typeof response.json.id, 'string');
      assert.ok(!Number.isNaN(Date.parse(response.json.createdAt)));
      assert.deepEqual(JSON.parse(readFileSync(dataFile, 'utf8')), [response.json]);
    });

    it('accepts a title of exactly 200 characters', async () => {
      const response = await call('POST', '/api/todos', { title: 'x'.repeat(200) });
      assert.equal(response.status, 201);
    });

    for (const [name, body] of [
      ['a blank title', { title: '   ' }],
      ['an empty title', { title: '' }],
      ['a missing title', {}],
      ['a title that is not text', { title: 7 }],
      ['a title of 201 characters', { title: 'x'.repeat(201) }],
      ['a body that is not JSON', '{"title": '],
      ['a body that is not an object', '["Buy milk"]'],
    ]) {
      it(`answers 400 with an error for ${name}, and stores nothing`, async () => {
        const response = await call('POST', '/api/todos', body);
        assert.equal(response.status, 400);
        assert.equal(typeof response.json.error, 'string');
        assert.ok(response.json.error.length > 0);
        assert.deepEqual((await call('GET', '/api/todos')).json, []);
      });
    }

    it('answers 413 for a body that is far too large', async () => {
      const response = await call('POST', '/api/todos', { title: 'x'.repeat(20_000) });
      assert.equal(response.status, 413);
      assert.equal(typeof response.json.error, 'string');
    });
  });

  describe('REQ-003 PATCH /api/todos/:id', () => {
    it('marks a todo completed and not completed, answering 200 with the todo', async () => {
      const todo = await create('Water the plants');
      const done = await call('PATCH', `/api/todos/${todo.id}`, { completed: true });
      assert.equal(done.status, 200);
      assert.deepEqual(done.json, { ...todo, completed: true });
      const undone = await call('PATCH', `/api/todos/${todo.id}`, { completed: false });
      assert.equal(undone.status, 200);
      assert.equal(undone.json.completed, false);
      assert.equal((await call('GET', '/api/todos')).json[0].completed, false);
    });

    it('answers 404 with an error for an unknown id', async () => {
      const response = await call('PATCH', '/api/todos/no-such-id', { completed: true });
      assert.equal(response.status, 404);
      assert.equal(typeof response.json.error, 'string');
    });

    it('answers 400 when completed is missing or not a boolean', async () => {
      const todo = await create('Call mum');
      for (const body of [{}, { completed: 'yes' }, 'not json']) {
        const response = await call('PATCH', `/api/todos/${todo.id}`, body);
        assert.equal(response.status, 400);
        assert.equal(typeof response.json.error, 'string');
      }
    });
  });

  describe('REQ-004 DELETE /api/todos/:id', () => {
    it('answers 204 and removes the todo', async () => {
      const todo = await create('Take out the bins');
      const response = await call('DELETE', `/api/todos/${todo.id}`);
      assert.equal(response.status, 204);
      assert.equal(response.text, '');
      assert.deepEqual((await call('GET', '/api/todos')).json, []);
    });

    it('answers 404 with an error for an unknown id, also for a malformed one', async () => {
      for (const id of ['no-such-id', '%E0%A4%A']) {
        const response = await call('DELETE', `/api/todos/${id}`);
        assert.equal(response.status, 404);
        assert.equal(typeof response.json.error, 'string');
      }
    });
  });

  describe('page and health', () => {
    it('REQ-005 serves the web page at / and the view script it loads', async () => {
      const page = await call('GET', '/');
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'], /^text\/html/);
      assert.match(page.text, /<title>Todos<\/title>/);
      assert.match(page.text, /\/todo-view\.js/);
      const script = await call('GET', '/todo-view.js');
      assert.equal(script.status, 200);
      assert.match(script.headers['content-type'], /^text\/javascript/);
      assert.match(script.text, /export function escapeHtml/);
    });

    it('REQ-006 answers GET /health with {"status":"ok"}', async () => {
      const response = await call('GET', '/health');
      assert.equal(response.status, 200);
      assert.equal(response.text, '{"status":"ok"}');
    });
  });

  describe('REQ-008 errors', () => {
    it('answers 404 with an error for an unknown path', async () => {
      const response = await call('GET', '/api/nothing-here');
      assert.equal(response.status, 404);
      assert.equal(typeof response.json.error, 'string');
    });

    it('answers 405 with the allowed methods for a method a path does not support', async () => {
      const response = await call('PUT', '/api/todos');
      assert.equal(response.status, 405);
      assert.equal(response.headers.allow, 'GET, POST');
      assert.equal(typeof response.json.error, 'string');
    });
  });
});
