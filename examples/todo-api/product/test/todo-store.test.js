import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createTodoStore, TodoValidationError } from '../src/todo-store.js';

describe('todo store', () => {
  let directory;
  let filePath;
  let tick;

  /** A store with a clock that advances one second per todo, and ids todo-1, todo-2... */
  function openStore() {
    let count = 0;
    return createTodoStore({
      filePath,
      now: () => new Date(Date.UTC(2026, 0, 1, 12, 0, tick++)),
      newId: () => `todo-${++count}`,
    });
  }

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'todo-store-'));
    filePath = join(directory, 'data', 'todos.json');
    tick = 0;
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('starts empty when the data file does not exist yet', () => {
    assert.deepEqual(openStore().list(), []);
  });

  it('creates a todo with a trimmed title, not completed, stamped with its creation time', () => {
    const todo = openStore().create('  Buy milk  ');
    assert.deepEqual(todo, {
      id: 'todo-1',
      title: 'Buy milk',
      completed: false,
      createdAt: '2026-01-01T12:00:00.000Z',
    });
  });

  it('lists todos newest first', () => {
    const store = openStore();
    store.create('first');
    store.create('second');
    store.create('third');
    assert.deepEqual(
      store.list().map((todo) => todo.title),
      ['third', 'second', 'first'],
    );
  });

  it('rejects blank, missing and over-long titles, and accepts exactly 200 characters', () => {
    const store = openStore();
    for (const title of ['', '   ', undefined, 42, 'x'.repeat(201)]) {
      assert.throws(() => store.create(title), TodoValidationError);
    }
    assert.equal(store.create('x'.repeat(200)).title.length, 200);
    assert.equal(store.list().length, 1);
  });

  it('marks a todo completed and not completed again', () => {
    const store = openStore();
    const { id } = store.create('Water the plants');
    assert.equal(store.setCompleted(id, true).completed, true);
    assert.equal(store.list()[0].completed, true);
    assert.equal(store.setCompleted(id, false).completed, false);
  });

  it('answers undefined for an unknown id and refuses a completed that is not a boolean', () => {
    const store = openStore();
    const { id } = store.create('Call mum');
    assert.equal(store.setCompleted('no-such-id', true), undefined);
    assert.throws(() => store.setCompleted(id, 'yes'), TodoValidationError);
  });

  it('deletes a todo, and reports false for an unknown id', () => {
    const store = openStore();
    const { id } = store.create('Take out the bins');
    assert.equal(store.remove(id), true);
    assert.equal(store.remove(id), false);
    assert.deepEqual(store.list(), []);
  });

  it('REQ-007 keeps todos in the JSON file, so a new store sees them', () => {
    const store = openStore();
    const { id } = store.create('Persist me');
    store.setCompleted(id, true);
    assert.deepEqual(JSON.parse(readFileSync(filePath, 'utf8')), store.list());
    assert.deepEqual(openStore().list(), store.list());
  });

  it('refuses to start on a data file that is not a JSON array, naming the file', () => {
    writeFileSync(join(directory, 'broken.json'), '{ not json');
    filePath = join(directory, 'broken.json');
    assert.throws(() => openStore(), /broken\.json is not valid JSON/);
    writeFileSync(filePath, '{"todos": []}');
    assert.throws(() => openStore(), /must hold a JSON array/);
  });
});
