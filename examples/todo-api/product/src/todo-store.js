import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const MAX_TITLE_LENGTH = 200;

/** A request the store refuses (the API answers it with 400 and the message). */
export class TodoValidationError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TodoValidationError';
  }
}

/**
 * Todos kept in one JSON file, newest first. Reads happen once, at start; every change rewrites
 * the whole file through a temporary file and a rename, so a crash never leaves half a file.
 * Writes are synchronous on purpose: one user, a few hundred todos at most, and no two changes can
 * interleave.
 */
export function createTodoStore({ filePath, now = () => new Date(), newId = randomUUID }) {
  let todos = load(filePath);

  function save() {
    mkdirSync(dirname(filePath), { recursive: true });
    const temporaryPath = `${filePath}.${process.pid}.tmp`;
    writeFileSync(temporaryPath, `${JSON.stringify(todos, null, 2)}\n`);
    renameSync(temporaryPath, filePath);
  }

  return {
    list() {
      return todos.map((todo) => ({ ...todo }));
    },

    create(title) {
      const todo = {
        id: newId(),
        title: validTitle(title),
        completed: false,
        createdAt: now().toISOString(),
      };
      todos = [todo, ...todos];
      save();
      return { ...todo };
    },

    /** The updated todo, or undefined when no todo has this id. */
    setCompleted(id, completed) {
      if (typeof completed !== 'boolean') {
        throw new TodoValidationError('"completed" must be true or false');
      }
      const todo = todos.find((candidate) => candidate.id === id);
      if (todo === undefined) return undefined;
      todo.completed = completed;
      save();
      return { ...todo };
    },

    /** True when a todo was deleted, false when no todo has this id. */
    remove(id) {
      const remaining = todos.filter((todo) => todo.id !== id);
      if (remaining.length === todos.length) return false;
      todos = remaining;
      save();
      return true;
    },
  };
}

/** The title without surrounding spaces; blank or longer than 200 characters is refused. */
export function validTitle(title) {
  if (typeof title !== 'string') {
    throw new TodoValidationError('"title" is required and must be text');
  }
  const trimmed = title.trim();
  if (trimmed.length === 0) throw new TodoValidationError('"title" must not be blank');
  if (trimmed.length > MAX_TITLE_LENGTH) {
    throw new TodoValidationError(`"title" must be at most ${MAX_TITLE_LENGTH} characters`);
  }
  return trimmed;
}

function load(filePath) {
  if (!existsSync(filePath)) return [];
  const text = readFileSync(filePath, 'utf8');
  let todos;
  try {
    todos = JSON.parse(text);
  } catch (error) {
    throw new Error(`${filePath} is not valid JSON (${error.message}); fix it or move it away`, {
      cause: error,
    });
  }
  if (!Array.isArray(todos)) {
    throw new Error(`${filePath} must hold a JSON array of todos; fix it or move it away`);
  }
  return todos;
}
