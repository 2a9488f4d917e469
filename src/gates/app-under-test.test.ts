import { once } from 'node:events';
import { readdirSync, rmSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPS, appGateContext, writeAppProject } from '../../test/support/app-fixtures.ts';
import { BubblewrapRunner, type CommandRunner, PlainRunner } from '../sandbox/index.ts';
import { findExecutable } from '../sandbox/find-executable.ts';
import { AppUnderTest } from './app-under-test.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);

let directory: string;
beforeEach(async () => {
  directory = await realpath(await mkdtemp(join(tmpdir(), 'loki-app-under-test-')));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function start(signal?: AbortSignal, runner?: CommandRunner): Promise<AppUnderTest> {
  const context = appGateContext(
    directory,
    runner ?? new BubblewrapRunner({ bubblewrapPath: bubblewrapPath ?? 'bwrap' }),
  );
  return AppUnderTest.start({
    runner: context.runner,
    projectDirectory: directory,
    startCommand: `"${process.execPath}" server.mjs`,
    env: context.env,
    timeoutMilliseconds: 60_000,
    ...(signal === undefined ? {} : { signal }),
  });
}

const sockets = () => readdirSync(directory).filter((name) => name.endsWith('.sock'));

describe.skipIf(bubblewrapPath === undefined)(
  'the app under test, in the bubblewrap sandbox without network',
  () => {
    it('is reached from Loki’s loopback, and gone with its socket file when the caller aborts', async () => {
      writeAppProject(directory, { 'server.mjs': APPS.fast });
      const controller = new AbortController();
      const app = await start(controller.signal);
      expect(await app.waitUntilHealthy('/health', 30_000)).toMatchObject({ healthy: true, statusCode: 200 });
      expect(await (await fetch(`${app.url}/`)).text()).toContain('Fixture shop');

      controller.abort(new Error('the run was cancelled'));
      await expect(app.stop()).rejects.toThrow('the run was cancelled');
      expect(app.hasExited).toBe(false);
      await expect(fetch(`${app.url}/health`)).rejects.toThrow();
      expect(sockets()).toEqual([]);
    });

    it('sends nothing to a socket the app put in place of the supervisor’s', async () => {
      writeAppProject(directory, { 'server.mjs': APPS.fast });
      await using app = await start();
      expect((await app.waitUntilHealthy('/health', 30_000)).healthy).toBe(true);
      const [socketName] = sockets();
      // What a hostile app can do: its own listener at the bridge's path, speaking first.
      rmSync(join(directory, socketName ?? ''));
      const received: Buffer[] = [];
      const impostor = createServer((connection) => {
        connection.on('data', (chunk: Buffer) => received.push(chunk));
        connection.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
      impostor.listen(join(directory, socketName ?? ''));
      await once(impostor, 'listening');
      await expect(fetch(`${app.url}/health`)).rejects.toThrow();
      await expect(app.restart()).rejects.toThrow(/did not answer as the supervisor Loki started/);
      impostor.close();
      expect(Buffer.concat(received).toString()).toBe('');
    });
  },
);

describe('the app under test with the plain runner (no isolation, the host loopback)', () => {
  it('is reached through the same bridge, restarted, and stopped', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.fast });
    await using app = await start(undefined, new PlainRunner());
    expect((await app.waitUntilHealthy('/health', 30_000)).healthy).toBe(true);
    await app.restart();
    expect((await app.waitUntilHealthy('/health', 30_000)).healthy).toBe(true);
    await app.stop();
    await expect(fetch(`${app.url}/health`)).rejects.toThrow();
  });
});
