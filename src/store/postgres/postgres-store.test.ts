import { afterAll, beforeAll, describe } from 'vitest';
import { findPostgresBinaries, PostgresServer } from '../../../test/support/postgres-server.ts';
import { describeStoreConformance } from '../store-conformance.ts';
import { PostgresStore } from './postgres-store.ts';

const binaries = findPostgresBinaries();
let server: PostgresServer | undefined;

function startedServer(): PostgresServer {
  if (server === undefined) throw new Error('the test PostgreSQL server is not running');
  return server;
}

describe.skipIf('missing' in binaries)(
  `PostgresStore${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    beforeAll(async () => {
      if ('directory' in binaries) server = await PostgresServer.start(binaries.directory);
    }, 180_000);
    afterAll(async () => {
      await server?.stop();
    });

    describeStoreConformance(
      'postgres',
      async (clock) => PostgresStore.open(await startedServer().createDatabase(), { clock, poolSize: 4 }),
      (store, clock) =>
        PostgresStore.open(startedServer().urlOf(new URL(store.location).pathname.slice(1)), {
          clock,
          poolSize: 4,
        }),
    );
  },
);
