import { readdirSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPS,
  appGateContext,
  appWithDependency,
  NODE_START,
  writeAppProject,
} from '../../test/support/app-fixtures.ts';
import { BubblewrapRunner } from '../sandbox/index.ts';
import { findExecutable } from '../sandbox/find-executable.ts';
import { createChaosGate } from './chaos-gate.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const gate = createChaosGate({ durationSeconds: 2 });

let directory: string;
beforeEach(async () => {
  directory = await realpath(await mkdtemp(join(tmpdir(), 'loki-chaos-')));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe.skipIf(bubblewrapPath === undefined)('the chaos gate, app in the bubblewrap sandbox', () => {
  const runner = () => new BubblewrapRunner({ bubblewrapPath: bubblewrapPath ?? 'bwrap' });

  it('passes an app that serves again after a crash and answers 503 when its dependency dies', async () => {
    writeAppProject(directory, appWithDependency(true), { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.reason).toMatch(/served again \d+ ms after a crash/);
    expect(result.reason).toMatch(
      /kept answering when its dependency was killed \(.*dependency\.mjs \(port \d+\)\)/,
    );
    expect(result.verdict).toBe('pass');
    expect(result.evidence.table?.rows[0]?.[5]).toBe(0);
    // The bridge's socket file goes with the app: nothing of the session stays in the project.
    expect(readdirSync(directory).filter((name) => name.endsWith('.sock'))).toEqual([]);
  });

  it('fails an app that exits when its dependency dies', async () => {
    writeAppProject(directory, appWithDependency(false), { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.verdict).toBe('fail');
    expect(result.reason).toMatch(/it exited when its dependency was killed: .*dependency\.mjs/);
    expect(result.evidence.outputExcerpt).toContain('dependency lost');
  });

  it('fails an app that cannot start again after a crash (its lock file is left behind)', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.lockedAfterCrash }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.verdict).toBe('fail');
    expect(result.reason).toMatch(
      /did not serve again after a crash \(SIGKILL\) and restart: the app exited by itself \(exit 1\)/,
    );
    expect(result.evidence.outputExcerpt).toContain('app.lock exists');
  });

  it('is not proven for an app without a dependency to kill, and says it survived the restart', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.fast }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.verdict).toBe('not-proven');
    expect(result.reason).toMatch(/served again .* after a crash .*; no dependency to kill/);
  });
});
