// Turns todos into HTML for the page. Every piece of text a user entered goes through escapeHtml,
// so a title like <script> is shown as text and never runs.

const HTML_ENTITIES = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (character) => HTML_ENTITIES[character]);
}

export function renderTodoItem(todo) {
  const title = escapeHtml(todo.title);
  const checked = todo.completed ? ' checked' : '';
  return (
    `<li class="todo${todo.completed ? ' completed' : ''}" data-id="${escapeHtml(todo.id)}">` +
    `<label><input type="checkbox" class="toggle"${checked}> <span class="title">${title}</span></label>` +
    `<button type="button" class="delete" aria-label="Delete ${title}">Delete</button>` +
    `</li>`
  );
}

export function renderTodoList(todos) {
  if (todos.length === 0) return '<li class="empty">Nothing to do.</li>';
  return todos.map(renderTodoItem).join('');
}
