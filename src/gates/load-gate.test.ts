import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPS, appGateContext, NODE_START, writeAppProject } from '../../test/support/app-fixtures.ts';
import { BubblewrapRunner } from '../sandbox/index.ts';
import { findExecutable } from '../sandbox/find-executable.ts';
import { createLoadGate } from './load-gate.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const gate = createLoadGate({ durationSeconds: 3 });

let directory: string;
beforeEach(async () => {
  directory = await realpath(await mkdtemp(join(tmpdir(), 'loki-load-')));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe.skipIf(bubblewrapPath === undefined)('the load gate, app in the bubblewrap sandbox', () => {
  const runner = () => new BubblewrapRunner({ bubblewrapPath: bubblewrapPath ?? 'bwrap' });

  it('passes an app that takes ten times the expected traffic', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.fast }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.reason).toMatch(/^100 requests\/s on 2 routes/);
    expect(result.verdict).toBe('pass');
    expect(result.evidence.command).toMatch(/autocannon \(100 requests\/s/);
  });

  it('fails an app that answers 503 beyond 20 requests a second, with its error rate', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.overloaded }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.verdict).toBe('fail');
    expect(result.reason).toMatch(/under 100 requests\/s: \/ failed \d+(\.\d)? % of requests \(\d+ non-2xx/);
  });

  it('is not proven without a start command', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.fast }, { withStartScript: false });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/no way to start the app/),
    });
  });
});
