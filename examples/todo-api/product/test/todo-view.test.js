import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { escapeHtml, renderTodoItem, renderTodoList } from '../public/todo-view.js';

const page = readFileSync(new URL('../public/index.html', import.meta.url), 'utf8');

describe('todo view', () => {
  it('REQ-010 escapes the characters that could start markup or end an attribute', () => {
    assert.equal(
      escapeHtml(`<b class="x">Tom & Jerry's</b>`),
      '&lt;b class=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;',
    );
  });

  it('REQ-010 shows a title that looks like HTML as text, in the item and in the delete label', () => {
    const html = renderTodoItem({
      id: 'a1',
      title: '<img src=x onerror="alert(1)">',
      completed: false,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    assert.ok(!html.includes('<img'), html);
    assert.ok(!html.includes('"alert(1)"'), html);
    assert.match(html, /<span class="title">&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;<\/span>/);
    assert.match(html, /aria-label="Delete &lt;img/);
  });

  it('escapes the id that the page puts in an attribute', () => {
    const html = renderTodoItem({ id: '"><script>', title: 'x', completed: false });
    assert.match(html, /data-id="&quot;&gt;&lt;script&gt;"/);
  });

  it('marks completed todos and checks their box', () => {
    const html = renderTodoItem({ id: 'a1', title: 'Done', completed: true });
    assert.match(html, /class="todo completed"/);
    assert.match(html, /class="toggle" checked/);
  });

  it('renders the todos in the order given, or a friendly line when there are none', () => {
    const html = renderTodoList([
      { id: 'b', title: 'newer', completed: false },
      { id: 'a', title: 'older', completed: false },
    ]);
    assert.ok(html.indexOf('newer') < html.indexOf('older'));
    assert.equal(renderTodoList([]), '<li class="empty">Nothing to do.</li>');
  });

  it('has a page that renders through the escaping view and limits titles to 200 characters', () => {
    assert.match(page, /import \{ renderTodoList \} from '\/todo-view\.js'/);
    assert.match(page, /<input name="title" maxlength="200" required/);
    // The page never puts response text into the document any other way than through the view.
    assert.equal(page.match(/innerHTML/g).length, 1);
    assert.match(page, /list\.innerHTML = renderTodoList\(/);
  });
});
