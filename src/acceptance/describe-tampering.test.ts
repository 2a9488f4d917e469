import { describe, expect, it } from 'vitest';
import { problemsWithAcceptanceTests } from './acceptance-work.ts';
import { describeTampering } from './describe-tampering.ts';

const SEALED_JS = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addTodo, listTodos } from '../src/todos.js';

test('REQ-001 adds a todo', () => {
  const todo = addTodo('milk');
  assert.equal(todo.title, 'milk');
  assert.equal(listTodos().length, 1);
});

test('REQ-002 rejects an empty title', () => {
  assert.throws(() => addTodo(''));
});
`;

const SEALED_PY = `import pytest
from todos import add_todo

def test_req_001_adds_a_todo():
    todo = add_todo("milk")
    assert todo.title == "milk"

def test_req_002_rejects_empty():
    with pytest.raises(ValueError):
        add_todo("")
`;

const SEALED_GO = `package todos

import "testing"

func TestReq001AddsATodo(t *testing.T) {
	if got := Add("milk"); got.Title != "milk" {
		t.Fatalf("title = %q", got.Title)
	}
}
`;

const PATH = 'test/todos.test.js';

describe('describeTampering', () => {
  it('names nothing when the sealed content is unchanged', () => {
    expect(describeTampering(PATH, SEALED_JS, SEALED_JS)).toEqual([]);
  });

  it('names a deleted file', () => {
    expect(describeTampering(PATH, SEALED_JS, null)).toEqual([
      { path: PATH, kind: 'deleted', detail: 'the sealed test file was deleted' },
    ]);
  });

  it.each([
    ["test.skip('REQ-001", 'skipped', /line 5 adds \.skip/],
    ["test.only('REQ-001", 'focused', /line 5 adds \.only, which focuses tests/],
    ["test.todo('REQ-001", 'skipped', /line 5 adds \.todo/],
  ])('names a test changed to %s', (replacement, kind, detail) => {
    const current = SEALED_JS.replace("test('REQ-001", replacement);
    const changes = describeTampering(PATH, SEALED_JS, current);
    expect(changes[0]).toMatchObject({ path: PATH, kind });
    expect(changes[0]?.detail).toMatch(detail);
  });

  it('names xit, a { skip } option, @pytest.mark.skip and t.Skip(', () => {
    const xit = SEALED_JS.replace("test('REQ-002", "xit('REQ-002");
    expect(describeTampering(PATH, SEALED_JS, xit).map((change) => change.kind)).toContain('skipped');
    const option = SEALED_JS.replace(
      "test('REQ-002 rejects an empty title', ()",
      "test('REQ-002 rejects an empty title', { skip: true }, ()",
    );
    expect(describeTampering(PATH, SEALED_JS, option)[0]?.kind).toBe('skipped');
    const focused = SEALED_JS.replace(
      "test('REQ-002 rejects an empty title', ()",
      "test('REQ-002 rejects an empty title', { only: true }, ()",
    );
    expect(describeTampering(PATH, SEALED_JS, focused)[0]?.kind).toBe('focused');
    // A todo object is no todo option.
    const todoObject = SEALED_JS.replace(
      "assert.throws(() => addTodo(''));",
      "assert.deepEqual({ todo: 'x' }, { todo: 'x' });",
    );
    expect(describeTampering(PATH, SEALED_JS, todoObject)[0]?.kind).toBe('modified');
    const python = SEALED_PY.replace('def test_req_002', '@pytest.mark.skip\ndef test_req_002');
    expect(describeTampering('tests/test_todos.py', SEALED_PY, python)[0]).toMatchObject({
      kind: 'skipped',
      detail: expect.stringMatching(/@pytest\.mark\.skip/),
    });
    const go = SEALED_GO.replace('\tif got', '\tt.Skip("later")\n\tif got');
    expect(describeTampering('todos_test.go', SEALED_GO, go)[0]?.kind).toBe('skipped');
  });

  it('names an emptied test body with the assertions it held', () => {
    const current = SEALED_JS.replace(
      "  const todo = addTodo('milk');\n  assert.equal(todo.title, 'milk');\n  assert.equal(listTodos().length, 1);\n",
      '  // fine\n',
    );
    expect(describeTampering(PATH, SEALED_JS, current)).toEqual([
      {
        path: PATH,
        kind: 'emptied',
        detail: 'test "REQ-001 adds a todo" (line 5) has an empty body now; it held 2 assertions',
      },
    ]);
  });

  it('names a removed or commented-out assertion, in JavaScript, Python and Go', () => {
    const removed = SEALED_JS.replace('  assert.equal(listTodos().length, 1);\n', '');
    expect(describeTampering(PATH, SEALED_JS, removed)).toEqual([
      {
        path: PATH,
        kind: 'assertion_removed',
        detail: 'test "REQ-001 adds a todo" (line 5) lost 1 assertion (2 sealed, 1 now)',
      },
    ]);
    const commented = SEALED_JS.replace('  assert.equal(listTodos', '  // assert.equal(listTodos');
    expect(describeTampering(PATH, SEALED_JS, commented)[0]?.kind).toBe('assertion_removed');
    const python = SEALED_PY.replace('    assert todo.title == "milk"\n', '    todo.title\n');
    expect(describeTampering('tests/test_todos.py', SEALED_PY, python)[0]).toMatchObject({
      kind: 'assertion_removed',
      detail: expect.stringContaining('test_req_001_adds_a_todo'),
    });
    const go = SEALED_GO.replace('\t\tt.Fatalf("title = %q", got.Title)\n', '');
    expect(describeTampering('todos_test.go', SEALED_GO, go)[0]?.kind).toBe('assertion_removed');
  });

  it('names a removed test, and any other change as modified with its line', () => {
    const withoutSecond = SEALED_JS.slice(0, SEALED_JS.indexOf("test('REQ-002"));
    expect(describeTampering(PATH, SEALED_JS, withoutSecond)).toEqual([
      { path: PATH, kind: 'test_removed', detail: 'test "REQ-002 rejects an empty title" was removed' },
    ]);
    const weakened = SEALED_JS.replace(
      "assert.equal(todo.title, 'milk')",
      'assert.equal(todo.title, todo.title)',
    );
    expect(describeTampering(PATH, SEALED_JS, weakened)).toEqual([
      {
        path: PATH,
        kind: 'modified',
        detail: `line 7 changed from "assert.equal(todo.title, 'milk');" to "assert.equal(todo.title, todo.title);"`,
      },
    ]);
  });
});

describe('problemsWithAcceptanceTests', () => {
  it('accepts tests that name every requirement and assert', () => {
    expect(problemsWithAcceptanceTests([{ path: PATH, content: SEALED_JS }], ['REQ-001', 'REQ-002'])).toEqual(
      [],
    );
    expect(
      problemsWithAcceptanceTests([{ path: 'tests/test_todos.py', content: SEALED_PY }], ['REQ-001']),
    ).toEqual([]);
  });

  it('refuses no test file, an unnamed requirement, a skipped test and a test without assertion', () => {
    expect(problemsWithAcceptanceTests([], ['REQ-001'])).toEqual([
      'no test file was written (name it like *.test.ts, *.spec.js, test_*.py or *_test.go)',
    ]);
    const weak = `${SEALED_JS.replace("test('REQ-002", "test.skip('REQ-002")}\ntest('REQ-001 lists', () => {});\n`;
    expect(problemsWithAcceptanceTests([{ path: PATH, content: weak }], ['REQ-001', 'REQ-003'])).toEqual([
      `${PATH}: line 11 uses .skip; acceptance tests must all run`,
      `${PATH}: test "REQ-001 lists" (line 15) asserts nothing`,
      'no test names requirement REQ-003 (e.g. "REQ-003 …" in the test\'s name)',
    ]);
  });
});
