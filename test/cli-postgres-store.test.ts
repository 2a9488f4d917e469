/**
 * Choosing the PostgreSQL store from the command line (`--store`), the environment
 * (LOKI_STORE_URL) or the configuration, against a real server the test starts; SQLite stays the
 * default, and a bad URL or an unreachable server is a clear error naming the fix.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/store/index.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { findPostgresBinaries, usePostgresServer } from './support/postgres-server.ts';

const binaries = findPostgresBinaries();

describe('choosing the store', () => {
  let workspace: TempWorkspace;
  beforeEach(async () => {
    workspace = new TempWorkspace();
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    return () => workspace[Symbol.dispose]();
  });

  it('refuses a store URL it cannot use, naming the form to write', async () => {
    const result = await loki(workspace, ['--store', 'postgres://db.example/', 'queue', 'list']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('postgres://USER:PASSWORD@HOST:PORT/DATABASE');
    const fromEnvironment = await loki(workspace, ['queue', 'list'], { env: { LOKI_STORE_URL: 'sqlite:x' } });
    expect(fromEnvironment.exitCode).toBe(2);
    expect(fromEnvironment.stderr).toContain('LOKI_STORE_URL');
  });

  it('says an unreachable server cannot be reached, without its password', async () => {
    const result = await loki(workspace, [
      '--store',
      'postgres://loki:pw-secret@127.0.0.1:1/loki',
      'queue',
      'list',
    ]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('cannot reach the PostgreSQL store');
    expect(result.stderr).toContain('start the server');
    expect(result.stderr).not.toContain('pw-secret');
  });

  describe.skipIf('missing' in binaries)(
    `with a server${'missing' in binaries ? ` (skipped: ${binaries.missing})` : ''}`,
    () => {
      const started = usePostgresServer(binaries);
      let database = '';
      beforeAll(async () => {
        database = new URL(await started().createDatabase('cli')).pathname.slice(1);
      }, 180_000);

      it('keeps tasks in PostgreSQL with --store or LOKI_STORE_URL, and in .loki/loki.db without', async () => {
        const url = await started().createSchema(database);
        const add = await loki(workspace, [
          '--store',
          url,
          'queue',
          'add',
          'Build the API',
          '--type',
          'eng-backend',
          '--id',
          'api',
          '--json',
        ]);
        expect(add.stderr).toBe('');
        expect(parseJsonOutput<{ id: string }>(add).id).toBe('api');
        const listed = await loki(workspace, ['queue', 'list', '--json'], { env: { LOKI_STORE_URL: url } });
        expect(listed.stderr).toBe('');
        expect(JSON.stringify(parseJsonOutput(listed))).toContain('"api"');
        // The default store, the workspace's SQLite file, never saw it.
        const local = await loki(workspace, ['queue', 'list', '--json']);
        expect(JSON.stringify(parseJsonOutput(local))).not.toContain('"api"');
        await using store = await PostgresStore.open(url);
        expect((await store.getTask('api'))?.title).toBe('Build the API');
      });
    },
  );
});
