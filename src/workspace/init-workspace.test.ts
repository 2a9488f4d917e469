import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock/index.ts';
import { initWorkspace } from './init-workspace.ts';
import { workspacePaths } from './workspace-paths.ts';

const PRD = '# Payroll\n\nSalaries of every employee, by name.\n';

describe('initWorkspace: the PRD copy', () => {
  let directory: string;
  let root: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-init-workspace-'));
    root = join(directory, 'workspace');
    mkdirSync(root);
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  /** Permission bits of a file (the target, for a symlink). */
  const modeOf = (path: string) => statSync(path).mode & 0o777;

  it('is never readable by more people than the PRD itself, even through a symlink', async () => {
    const secret = join(directory, 'secret-prd.md');
    writeFileSync(secret, PRD);
    chmodSync(secret, 0o600);
    symlinkSync(secret, join(directory, 'prd.md'));

    await initWorkspace({ root, prdPath: join(directory, 'prd.md'), clock: systemClock });

    const copy = workspacePaths(root).prdCopy;
    expect(readFileSync(copy, 'utf8')).toBe(PRD);
    expect(modeOf(copy)).toBe(0o600);
  });

  it('keeps the owner able to read a copy of a read-only PRD, and never widens it', async () => {
    const prd = join(directory, 'prd.md');
    writeFileSync(prd, PRD);
    chmodSync(prd, 0o440);

    await initWorkspace({ root, prdPath: prd, clock: systemClock });

    const mode = modeOf(workspacePaths(root).prdCopy);
    expect(mode & 0o400).toBe(0o400);
    expect(mode & ~0o440).toBe(0);
  });
});
