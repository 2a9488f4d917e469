import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createTodoServer } from './app.js';
import { createTodoStore } from './todo-store.js';

// Configuration comes from the environment: PORT (default 3000; 0 picks a free port), HOST
// (default 127.0.0.1: one user on one machine) and TODO_DATA_FILE (default data/todos.json next
// to the service).
const port = Number(process.env.PORT || 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number from 0 to 65535, got "${process.env.PORT}"`);
  process.exit(2);
}
const host = process.env.HOST || '127.0.0.1';
const dataFile = process.env.TODO_DATA_FILE || fileURLToPath(new URL('../data/todos.json', import.meta.url));

const server = createTodoServer(createTodoStore({ filePath: dataFile }));

server.on('error', (error) => {
  console.error(`cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const { port: actualPort } = server.address();
  // Tests and the smoke check read this line to learn the port and how long start-up took.
  console.log(
    `todo-api listening on http://${host}:${actualPort} (ready in ${Math.round(performance.now())} ms, data in ${dataFile})`,
  );
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
