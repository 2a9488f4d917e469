import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { TodoValidationError } from './todo-store.js';

/** Bodies are a title and a flag; anything bigger is a mistake or an attack. */
const MAX_BODY_BYTES = 16 * 1024;

const PUBLIC_DIRECTORY = new URL('../public/', import.meta.url);

/** The page's two files, read once at start: serving them never touches the disk. */
const STATIC_FILES = new Map([
  ['/', { type: 'text/html; charset=utf-8', body: readFileSync(new URL('index.html', PUBLIC_DIRECTORY)) }],
  [
    '/todo-view.js',
    { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('todo-view.js', PUBLIC_DIRECTORY)) },
  ],
]);

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** An HTTP server for the todo API, the web page and the health check, backed by `store`. */
export function createTodoServer(store) {
  return createServer((request, response) => {
    handle(store, request, response).catch((error) => {
      if (error instanceof HttpError) {
        sendJson(response, error.status, { error: error.message }, error.headers);
      } else if (error instanceof TodoValidationError) {
        sendJson(response, 400, { error: error.message });
      } else {
        console.error(`${request.method} ${request.url} failed:`, error);
        sendJson(response, 500, { error: 'internal error; see the server log' });
      }
    });
  });
}

async function handle(store, request, response) {
  const { pathname } = new URL(request.url, 'http://localhost');
  const method = request.method;

  if (pathname === '/health') {
    allowMethods(method, ['GET']);
    return sendJson(response, 200, { status: 'ok' });
  }

  if (pathname === '/api/todos') {
    allowMethods(method, ['GET', 'POST']);
    if (method === 'GET') return sendJson(response, 200, store.list());
    const body = await readJsonBody(request);
    return sendJson(response, 201, store.create(body.title));
  }

  const todoMatch = /^\/api\/todos\/([^/]+)$/.exec(pathname);
  if (todoMatch !== null) {
    allowMethods(method, ['PATCH', 'DELETE']);
    const id = decodeId(todoMatch[1]);
    if (method === 'PATCH') {
      const body = await readJsonBody(request);
      const todo = store.setCompleted(id, body.completed);
      if (todo === undefined) throw notFound(id);
      return sendJson(response, 200, todo);
    }
    if (!store.remove(id)) throw notFound(id);
    response.writeHead(204);
    return response.end();
  }

  const file = STATIC_FILES.get(pathname);
  if (file !== undefined) {
    allowMethods(method, ['GET']);
    response.writeHead(200, { 'content-type': file.type, 'x-content-type-options': 'nosniff' });
    return response.end(file.body);
  }

  throw new HttpError(404, `no route for ${method} ${pathname}`);
}

function allowMethods(method, allowed) {
  if (!allowed.includes(method)) {
    throw new HttpError(405, `${method} is not allowed here; use ${allowed.join(' or ')}`, {
      allow: allowed.join(', '),
    });
  }
}

function decodeId(encoded) {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw notFound(encoded);
  }
}

function notFound(id) {
  return new HttpError(404, `no todo with id "${id}"`);
}

async function readJsonBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let body;
  try {
    body = JSON.parse(chunks.join(''));
  } catch {
    throw new HttpError(400, 'the body must be JSON, e.g. {"title": "Buy milk"}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object');
  }
  return body;
}

function sendJson(response, status, value, headers = {}) {
  const text = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(text);
}
