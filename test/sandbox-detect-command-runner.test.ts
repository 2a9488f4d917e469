import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectCommandRunner } from '../src/sandbox/index.ts';

const isBubblewrapInstalled = (process.env.PATH ?? '')
  .split(':')
  .some((directory) => directory.startsWith('/') && existsSync(join(directory, 'bwrap')));

describe('detectCommandRunner', () => {
  let binDirectory: string;

  beforeEach(async () => {
    binDirectory = await mkdtemp(join(tmpdir(), 'loki-detect-bin-'));
  });

  afterEach(async () => {
    await rm(binDirectory, { recursive: true, force: true });
  });

  it('falls back to plain and says how to get isolation when bwrap is not on PATH', async () => {
    const detection = await detectCommandRunner({ env: { PATH: binDirectory } });
    expect(detection.runner.kind).toBe('plain');
    expect(detection.reason).toMatch(/bwrap is not on PATH.*apt-get install bubblewrap/);
  });

  it('falls back to plain when bwrap fails its trial run, quoting the failure', async () => {
    const fakeBubblewrap = join(binDirectory, 'bwrap');
    await writeFile(
      fakeBubblewrap,
      '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n',
    );
    await chmod(fakeBubblewrap, 0o755);
    const detection = await detectCommandRunner({ env: { PATH: binDirectory } });
    expect(detection.runner.kind).toBe('plain');
    expect(detection.reason).toMatch(
      /failed a trial run \(exit 1: bwrap: No permissions to create new namespace\)/,
    );
  });

  it.skipIf(!isBubblewrapInstalled)(
    'picks bubblewrap when bwrap works (skipped when bwrap is not installed)',
    async () => {
      const detection = await detectCommandRunner({
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      });
      expect(detection.runner.kind).toBe('bubblewrap');
      expect(detection.reason).toMatch(/works: commands run isolated/);
    },
  );
});
