import { beforeAll, describe, expect, it } from 'vitest';
import {
  findPostgresBinaries,
  type PostgresServer,
  usePostgresServer,
} from '../../../test/support/postgres-server.ts';
import { createRedactor, REDACTED } from '../../sandbox/redactor.ts';
import { describeStoreConformance } from '../store-conformance.ts';
import { PostgresStore } from './postgres-store.ts';

const binaries = findPostgresBinaries();
let startedServer: () => PostgresServer;
let database = '';

describe.skipIf('missing' in binaries)(
  `PostgresStore${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
  () => {
    startedServer = usePostgresServer(binaries);
    beforeAll(async () => {
      database = new URL(await startedServer().createDatabase('conformance')).pathname.slice(1);
    });

    describeStoreConformance(
      'postgres',
      // A schema per store: a store of its own for each test, at a fraction of a database's cost.
      async (clock) =>
        PostgresStore.open(await startedServer().createSchema(database), { clock, poolSize: 4 }),
      // The location keeps the URL's search_path, and it has no password to redact.
      (store, clock) => PostgresStore.open(store.location, { clock, poolSize: 4 }),
    );

    describe('opening', () => {
      it('migrates once when several connections open a new store at the same time', async () => {
        const url = await startedServer().createSchema(database);
        const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open(url, { poolSize: 1 })));
        await Promise.all(stores.map((store) => store.close()));
        await using store = await PostgresStore.open(url);
        expect(store.kind).toBe('postgres');
        expect((await store.readSummary()).lastEventSequence).toBe(0);
      });

      it('keeps event text exactly as written, whatever characters it holds', async () => {
        // Events travel to the server as escaped literals with the COMMIT (postgres-transaction.ts).
        await using store = await PostgresStore.open(await startedServer().createSchema(database));
        const awkward = `it's a "quote", a back\\slash \\' , $$dollars$$; COMMIT; -- ünïcödé ✓ \n tab\t`;
        const written = await store.appendEvent({
          type: 'phase.entered',
          runId: awkward,
          taskId: `task ${awkward}`,
          data: { phase: awkward },
        });
        const [read] = await store.listEvents({ afterSequence: written.sequence - 1 });
        expect(read).toEqual(written);
        expect(read?.runId).toBe(awkward);
      });

      it('redacts secrets in what a claim and a completion write, each in its single statement', async () => {
        const secret = 'not-a-real-secret-value-1234';
        const url = await startedServer().createSchema(database);
        await using store = await PostgresStore.open(url, {
          redactor: createRedactor({ extraSecrets: [secret] }),
        });
        const worker = `worker-${secret}`;
        await store.insertTasks([
          {
            id: 'a',
            type: 'eng-backend',
            title: 'a',
            description: '',
            priority: 5,
            dependencies: [],
            payload: null,
            idempotencyKey: null,
            runId: 'run-1',
            timeoutSeconds: 60,
            maxAttempts: 3,
          },
        ]);
        const heard: unknown[] = [];
        const stop = store.onEventsAppended((events) => heard.push(...events));
        const claimed = await store.claimTask({ workerId: worker });
        const done = await store.completeTask('a', worker, { summary: `used ${secret}` });
        stop();
        expect(done.result).toEqual({ summary: `used ${REDACTED}` });
        const events = await store.listEvents({ taskId: 'a', types: ['task.claimed', 'task.completed'] });
        expect(events).toEqual(heard);
        expect(events.map((event) => event.data)).toEqual([
          { workerId: `worker-${REDACTED}`, attempt: 1, leaseExpiresAt: claimed?.leaseExpiresAt },
          { workerId: `worker-${REDACTED}`, attempt: 1 },
        ]);
        expect((await store.getTask('a'))?.result).toEqual({ summary: `used ${REDACTED}` });
      });

      it('names a missing database and how to create it', async () => {
        const error = await PostgresStore.open(startedServer().urlOf('no_such_database')).catch(
          (caught: unknown) => caught,
        );
        expect(error).toMatchObject({ code: 'STORE_DATABASE_MISSING', category: 'user' });
        expect(String(error)).toContain('createdb');
      });

      it('hides the password in its location and in its errors', async () => {
        const url = startedServer().urlOf('no_such_database').replace('loki@', 'loki:s3cret-value@');
        const error = await PostgresStore.open(url).catch((caught: unknown) => caught);
        expect(String(error)).not.toContain('s3cret-value');
        expect(String(error)).toContain('loki:***@');
      });
    });
  },
);

describe('PostgresStore without a server', () => {
  it('refuses a URL it cannot use, naming the form to write', async () => {
    for (const url of ['postgres://', 'postgres://host-only', 'mysql://x@y/z']) {
      const error = await PostgresStore.open(url).catch((caught: unknown) => caught);
      expect(error, url).toMatchObject({ code: 'STORE_URL_INVALID', category: 'user' });
      expect(String(error)).toContain('postgres://USER:PASSWORD@HOST:PORT/DATABASE');
    }
  });

  it('says the server cannot be reached and what to fix', async () => {
    // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
    const error = await PostgresStore.open('postgres://loki:pw@127.0.0.1:1/loki').catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'STORE_UNREACHABLE', category: 'user' });
    expect(String(error)).toContain('start the server or fix the host and port');
    expect(String(error)).not.toContain(':pw@');
  });
});
