import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GateResult } from '../src/gates/index.ts';
import { findExecutable } from '../src/sandbox/find-executable.ts';
import { APPS, writeAppProject } from './support/app-fixtures.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';

/**
 * `loki verify` with the gates that start the product: small node:http apps started by their own
 * `npm start` (the PORT convention) in the real bubblewrap sandbox without network, measured from
 * Loki's side by autocannon and axe-core in Chromium.
 */
const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const chromiumPath = process.env.LOKI_TEST_CHROMIUM ?? '/usr/bin/chromium';
const SKIP_NOTE = bubblewrapPath === undefined ? ' (SKIPPED: bwrap is not on PATH)' : '';

async function verify(workspace: TempWorkspace, gates: readonly string[]) {
  const result = await loki(workspace, ['verify', '--json', '--gate', ...gates], {
    env: { LOKI_CHROMIUM_PATH: chromiumPath },
  });
  const outcome = parseJsonOutput<{ headline: string; results: GateResult[] }>(result);
  const byGate = Object.fromEntries(outcome.results.map((entry) => [entry.gate, entry]));
  return { exitCode: result.exitCode, outcome, byGate };
}

describe.skipIf(bubblewrapPath === undefined)(`loki verify, app gates${SKIP_NOTE}`, () => {
  it('passes performance and load on a fast app started by npm start, with per-route evidence', async () => {
    using workspace = new TempWorkspace('loki-verify-app-');
    writeAppProject(workspace.root, { 'server.mjs': APPS.fast });
    const { exitCode, outcome, byGate } = await verify(workspace, ['performance', 'load']);
    expect(byGate.performance).toMatchObject({
      verdict: 'pass',
      reason: expect.stringMatching(/^p99 below 200 ms on 1 route \(worst \d+ ms\)/),
      evidence: {
        files: ['package.json (scripts.start)'],
        command: expect.stringMatching(/^npm start \(sandboxed/),
      },
    });
    expect(byGate.load).toMatchObject({ verdict: 'pass', reason: expect.stringMatching(/^100 requests\/s/) });
    expect(outcome.headline).toBe('VERIFIED');
    expect(exitCode).toBe(0);
    // The app and the bridge's socket are gone with the run.
    expect(readdirSync(workspace.root).filter((name) => name.endsWith('.sock'))).toEqual([]);
  });

  it('fails performance on a route that takes 400 ms: NOT VERIFIED, exit 3', async () => {
    using workspace = new TempWorkspace('loki-verify-app-');
    writeAppProject(workspace.root, { 'server.mjs': APPS.slow });
    const { exitCode, outcome, byGate } = await verify(workspace, ['performance']);
    expect(byGate.performance).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/^\/ p99 \d+ ms/),
    });
    expect(outcome.headline).toBe('NOT VERIFIED');
    expect(exitCode).toBe(3);
  });

  it.skipIf(!existsSync(chromiumPath))(
    'fails accessibility on an image without alt text; chaos survives the restart but has no dependency to kill',
    async () => {
      using workspace = new TempWorkspace('loki-verify-app-');
      writeAppProject(workspace.root, { 'server.mjs': APPS.inaccessible });
      const { exitCode, byGate } = await verify(workspace, ['chaos', 'accessibility']);
      expect(byGate.accessibility).toMatchObject({
        verdict: 'fail',
        reason: expect.stringMatching(/image-alt \(critical\)/),
      });
      expect(byGate.chaos).toMatchObject({
        verdict: 'not-proven',
        reason: expect.stringMatching(/served again \d+ ms after a crash .*; no dependency to kill/),
      });
      expect(exitCode).toBe(3);
    },
  );

  it('says why each app gate is not proven when there is no way to start the app', async () => {
    using workspace = new TempWorkspace('loki-verify-app-');
    writeAppProject(workspace.root, { 'server.mjs': APPS.fast }, { withStartScript: false });
    const gates = ['performance', 'load', 'chaos', 'accessibility'];
    const { exitCode, outcome, byGate } = await verify(workspace, gates);
    for (const gate of gates) {
      expect(byGate[gate]).toMatchObject({
        verdict: 'not-proven',
        reason: expect.stringMatching(/^not applicable: no way to start the app/),
      });
    }
    expect(outcome.headline).toBe('VERIFIED WITH GAPS');
    expect(exitCode).toBe(3);
  });
});
