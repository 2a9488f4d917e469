import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPS, appGateContext, NODE_START, writeAppProject } from '../../test/support/app-fixtures.ts';
import { BubblewrapRunner } from '../sandbox/index.ts';
import { findExecutable } from '../sandbox/find-executable.ts';
import { createPerformanceGate } from './performance-gate.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const gate = createPerformanceGate({ durationSeconds: 1, connections: 4 });

let directory: string;
beforeEach(async () => {
  directory = await realpath(await mkdtemp(join(tmpdir(), 'loki-performance-')));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe.skipIf(bubblewrapPath === undefined)('the performance gate, app in the bubblewrap sandbox', () => {
  const runner = () => new BubblewrapRunner({ bubblewrapPath: bubblewrapPath ?? 'bwrap' });

  it('passes a fast app with p50/p99, requests and errors per route as evidence', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.fast }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result).toMatchObject({ gate: 'performance', verdict: 'pass' });
    expect(result.evidence.files).toEqual(['.loki/specs/architecture.json (deployment)']);
    expect(result.evidence.table?.rows.map((row) => row[0])).toEqual(['/', '/health']);
    for (const row of result.evidence.table?.rows ?? []) expect(row[1]).toBeGreaterThan(0);
    expect(result.evidence.outputExcerpt).toMatch(/route \| requests .*p99 ms/);
  });

  it('fails an app whose main route takes 400 ms, naming the route', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.slow }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.verdict).toBe('fail');
    expect(result.reason).toMatch(/^\/ p99 \d+ ms/);
    expect(result.reason).not.toMatch(/\/health p99/);
  });

  it('holds the app to the p99 threshold of gates.yaml when the run gives one', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.slow }, { architecture: NODE_START });
    const context = {
      ...appGateContext(directory, runner()),
      thresholds: { maximumP99Milliseconds: 60_000 },
    };
    const { result } = await gate.run(context);
    expect(result.verdict).toBe('pass');
    expect(result.reason).toMatch(/p99 below 60000 ms/);
  });

  it('fails an app that never becomes healthy, with its output', async () => {
    writeAppProject(
      directory,
      { 'server.mjs': "console.error('no database configured'); process.exit(2);" },
      { architecture: NODE_START },
    );
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.verdict).toBe('fail');
    expect(result.reason).toMatch(/the app did not start: the app exited by itself \(exit 2\)/);
    expect(result.evidence.outputExcerpt).toContain('no database configured');
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
