import { existsSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPS, appGateContext, NODE_START, writeAppProject } from '../../test/support/app-fixtures.ts';
import { BubblewrapRunner, PlainRunner } from '../sandbox/index.ts';
import { findExecutable } from '../sandbox/find-executable.ts';
import { createAccessibilityGate } from './accessibility-gate.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const chromiumPath = process.env.LOKI_TEST_CHROMIUM ?? '/usr/bin/chromium';
const SKIP = bubblewrapPath === undefined || !existsSync(chromiumPath);
const gate = createAccessibilityGate({ chromiumPath });

let directory: string;
beforeEach(async () => {
  directory = await realpath(await mkdtemp(join(tmpdir(), 'loki-accessibility-')));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('the accessibility gate without Chromium', () => {
  it('is not proven and names the fix', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.fast }, { architecture: NODE_START });
    const missing = createAccessibilityGate({ chromiumPath: join(directory, 'no-chromium') });
    const { result } = await missing.run(appGateContext(directory, new PlainRunner()));
    expect(result).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/tool missing: no Chromium at .*set LOKI_CHROMIUM_PATH/),
    });
  });
});

describe.skipIf(SKIP)('the accessibility gate, app in the bubblewrap sandbox, axe-core in Chromium', () => {
  const runner = () => new BubblewrapRunner({ bubblewrapPath: bubblewrapPath ?? 'bwrap' });

  it('passes an accessible page', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.fast }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.reason).toMatch(/no serious or critical violation on 1 page \(\/\)/);
    expect(result.verdict).toBe('pass');
  });

  it('fails an image without alt text and an unlabeled input, listing id, impact, target and help', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.inaccessible }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result.verdict).toBe('fail');
    expect(result.reason).toMatch(/image-alt \(critical\)/);
    expect(result.reason).toMatch(/label \(critical\)/);
    expect(result.evidence.table?.rows).toEqual(
      expect.arrayContaining([
        ['/', 'image-alt', 'critical', 'img', expect.stringMatching(/alternative text/i)],
        ['/', 'label', 'critical', 'input', expect.stringMatching(/label/i)],
      ]),
    );
  });

  it('is not proven when no route answers HTML', async () => {
    writeAppProject(directory, { 'server.mjs': APPS.jsonOnly }, { architecture: NODE_START });
    const { result } = await gate.run(appGateContext(directory, runner()));
    expect(result).toMatchObject({
      verdict: 'not-proven',
      reason: 'not applicable: no route answered an HTML page (tried /, /health)',
    });
  });
});
