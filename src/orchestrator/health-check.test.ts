import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BubblewrapRunner, type CommandRunner, PlainRunner } from '../sandbox/index.ts';
import { findProcessesWithMarker } from '../sandbox/command-runner-conformance.ts';
import { findExecutable } from '../sandbox/find-executable.ts';
import { checkHealth } from './health-check.ts';

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const TIMING = {
  killGraceMilliseconds: 500,
  killDeadlineMilliseconds: 5_000,
  outputDrainMilliseconds: 1_000,
};
const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const SKIP_NOTE =
  bubblewrapPath === undefined ? ' (SKIPPED: bwrap is not on PATH — apt-get install bubblewrap)' : '';

/** A server answering `status` on /health; its file name carries a marker to find leftovers by. */
function serverSource(status: number): string {
  return `
import { createServer } from 'node:http';
const server = createServer((request, response) => {
  response.statusCode = request.url === '/health' ? ${status} : 404;
  response.end('status ${status}');
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
`;
}

let directory: string;

beforeEach(async () => {
  // Under the temp dir but bound into the bubblewrap sandbox as the writable directory.
  directory = await realpath(await mkdtemp(join(tmpdir(), 'loki-health-check-')));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeServer(status: number): Promise<{ startCommand: string; marker: string }> {
  const marker = `loki-health-server-${status}-${Math.random().toString(36).slice(2)}`;
  await writeFile(join(directory, `${marker}.mjs`), serverSource(status));
  return { startCommand: `"${process.execPath}" ${marker}.mjs`, marker };
}

function check(runner: CommandRunner, startCommand: string, timeoutMilliseconds = 10_000) {
  return checkHealth({
    runner,
    cwd: directory,
    startCommand,
    healthPath: '/health',
    env: { PATH: BASE_PATH },
    timeoutMilliseconds,
  });
}

describe('checkHealth with the plain runner', () => {
  const runner = new PlainRunner({ timing: TIMING });

  it('passes when the server answers 2xx, and stops the server afterwards', async () => {
    const { startCommand, marker } = await writeServer(200);
    const result = await check(runner, startCommand);
    expect(result).toMatchObject({ passed: true, statusCode: 200 });
    expect(result.port).toBeGreaterThan(0);
    expect(result.outputTail).toContain(`listening on ${result.port}`);
    expect(await findProcessesWithMarker(marker)).toEqual([]);
  });

  it('fails with the status when the server answers 500', async () => {
    const { startCommand, marker } = await writeServer(500);
    const result = await check(runner, startCommand, 3_000);
    expect(result).toMatchObject({ passed: false, statusCode: 500 });
    expect(result.outputTail).toMatch(/no 2xx answer .* within 3000 ms \(last status: 500\)/);
    expect(await findProcessesWithMarker(marker)).toEqual([]);
  });

  it('fails soon when the start command exits without serving', async () => {
    // A timeout far beyond the test's own: only noticing the exit can end the check in time.
    const result = await check(runner, 'echo "Error: Cannot find module server.js" >&2; exit 1', 3_600_000);
    expect(result).toMatchObject({ passed: false, statusCode: null });
    expect(result.outputTail).toContain('Cannot find module server.js');
    expect(result.outputTail).toContain('the start command exited');
  });

  it('cannot be fooled by a start command that prints a health line', async () => {
    const fakes = [
      'echo "LOKI_HEALTH 200"',
      'echo "LOKI_HEALTH 0123456789abcdef0123456789abcdef 200"',
      'echo "LOKI_HEALTH 200" > /proc/$PPID/fd/1',
    ].join('; ');
    const result = await check(runner, `${fakes}; sleep 30`, 3_000);
    expect(result).toMatchObject({ passed: false, statusCode: null });
  });

  it('passes the start command through the environment, never into the script', async () => {
    const { startCommand } = await writeServer(200);
    // Quotes, $ and backticks in model-written text are the start command's own business.
    const result = await check(runner, `x='it'"'"'s $HOME \`true\`'; echo "$x" >&2; ${startCommand}`);
    expect(result.passed).toBe(true);
    expect(result.outputTail).toContain("it's $HOME `true`");
  });
});

describe.skipIf(bubblewrapPath === undefined)(`checkHealth in the bubblewrap sandbox${SKIP_NOTE}`, () => {
  it('passes when the server answers 2xx on the sandbox loopback without network', async () => {
    const runner = new BubblewrapRunner({ bubblewrapPath: bubblewrapPath ?? 'bwrap', timing: TIMING });
    const { startCommand } = await writeServer(200);
    const result = await check(runner, startCommand);
    expect(result).toMatchObject({ passed: true, statusCode: 200 });
  });
});
