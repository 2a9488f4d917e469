import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findExecutable } from '../src/sandbox/index.ts';
import { loki, lokiProcess, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { commitVersion, fetchText, writeDeployableProduct } from './support/deploy-fixture.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const SKIP_NOTE = bubblewrapPath === undefined ? ' (SKIPPED: bwrap is not on PATH)' : '';

const workspaces: TempWorkspace[] = [];
afterEach(() => {
  // `loki deploy stop` in cleanup: no supervisor or app outlives the test, whatever failed.
  for (const workspace of workspaces.splice(0)) {
    lokiProcess(workspace, ['deploy', 'stop']);
    workspace[Symbol.dispose]();
  }
});

/**
 * A PATH whose `bwrap` is the real one behind a script that first notes each call in a file: what
 * Loki runs of bubblewrap (the trial run that tells whether it works, an app started inside it).
 */
function recordingBubblewrap(workspace: TempWorkspace): { path: string; calls: () => string[] } {
  const directory = join(workspace.home, 'bin');
  mkdirSync(directory, { recursive: true });
  const log = join(directory, 'calls.log');
  const shim = join(directory, 'bwrap');
  writeFileSync(shim, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${bubblewrapPath ?? 'bwrap'}' "$@"\n`);
  chmodSync(shim, 0o755);
  return {
    path: [directory, workspace.env.PATH ?? ''].join(delimiter),
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

interface Rollback {
  fromVersion: string | null;
  version: string;
  wasWarm: boolean;
  url: string | null;
}

describe.skipIf(bubblewrapPath === undefined)(`loki rollback (local target)${SKIP_NOTE}`, () => {
  it('switches to a release still running without trying bubblewrap; one that must start again still does', async () => {
    const workspace = new TempWorkspace('loki-rollback-');
    workspaces.push(workspace);
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    writeDeployableProduct(workspace);
    for (const version of ['1', '2', '3']) {
      commitVersion(workspace, version);
      const deployed = lokiProcess(workspace, ['deploy', '--json']);
      expect(deployed.exitCode, deployed.stderr).toBe(0);
    }
    // v3 serves, v2 is kept warm for a rollback, v1 was stopped.
    const bubblewrap = recordingBubblewrap(workspace);

    const warm = await loki(workspace, ['rollback', '--json'], { env: { PATH: bubblewrap.path } });
    expect(warm.exitCode, warm.stderr).toBe(0);
    const switched = parseJsonOutput<Rollback>(warm);
    expect(switched).toMatchObject({ fromVersion: 'v3', version: 'v2', wasWarm: true });
    expect(await fetchText(switched.url ?? '')).toBe('version 2');
    expect(bubblewrap.calls()).toEqual([]);

    const cold = await loki(workspace, ['rollback', '--to', 'v1', '--json'], {
      env: { PATH: bubblewrap.path },
    });
    expect(cold.exitCode, cold.stderr).toBe(0);
    expect(parseJsonOutput<Rollback>(cold)).toMatchObject({
      fromVersion: 'v2',
      version: 'v1',
      wasWarm: false,
    });
    expect(await fetchText(switched.url ?? '')).toBe('version 1');
    // The release started again is sandboxed as a deployed one is: bubblewrap was tried for it.
    expect(bubblewrap.calls().length).toBeGreaterThan(0);
  }, 300_000);
});
