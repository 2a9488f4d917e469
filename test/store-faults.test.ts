/**
 * The store's file gone wrong under a workspace with history: emptied, deleted, or corrupt. Loki
 * must never quietly start a new, empty store over a history, and a damaged store is one line of
 * advice (with the backup to restore), never a stack trace. `loki doctor` checks the store.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../src/doctor/index.ts';
import type { StatusReport } from '../src/workspace/index.ts';
import { type CliResult, loki, lokiProcess, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun } from './support/run-harness.ts';

const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });

/** A workspace whose run completed: history in the store, the projections and the reports. */
async function completedWorkspace(): Promise<{ workspace: TempWorkspace; args: string[] }> {
  const workspace = new TempWorkspace();
  const args = prepareRun(workspace, {
    tasks: [
      { id: 'alpha', files: files('alpha') },
      { id: 'beta', files: files('beta'), dependencies: ['alpha'] },
    ],
  });
  const run = await loki(workspace, ['run', 'prd.md', ...args]);
  expect(run.exitCode, run.stderr + run.stdout).toBe(0);
  return { workspace, args };
}

const databasePath = (workspace: TempWorkspace) => join(workspace.root, '.loki', 'loki.db');
const backupsDirectory = (workspace: TempWorkspace) => join(workspace.root, '.loki', 'artifacts', 'backups');

/** Every file under .loki/ with a hash of its content (logs aside: they are not Loki's state). */
function snapshotLoki(workspace: TempWorkspace): Record<string, string> {
  const tree: Record<string, string> = {};
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else
        tree[relative(workspace.root, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(join(workspace.root, '.loki'));
  return tree;
}

/** A LokiError as the CLI prints it: exactly one line on stderr, no stack trace. */
function expectOneLineError(result: CliResult, exitCode: number): string {
  expect(result.exitCode, result.stderr + result.stdout).toBe(exitCode);
  expect(result.stderr).toMatch(/^loki: [^\n]+\n$/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return result.stderr;
}

describe('a workspace whose store is lost', () => {
  it('refuses an emptied (0-byte) store when the projections and reports show history, changing nothing', async () => {
    const { workspace, args } = await completedWorkspace();
    using _ = workspace;
    writeFileSync(databasePath(workspace), '');
    const before = snapshotLoki(workspace);

    for (const command of [
      ['status'],
      ['resume', ...args],
      ['run', 'prd.md', ...args],
      ['init'],
      ['queue', 'list'],
    ]) {
      const stderr = expectOneLineError(await loki(workspace, command), 2);
      expect(stderr, command.join(' ')).toMatch(/\.loki\/loki\.db is empty/);
      expect(stderr).toContain('nothing was changed');
      // The way back is named: the newest backup, with the command that restores it.
      expect(stderr).toMatch(/cp \.loki\/artifacts\/backups\/loki-[\w-]+\.db \.loki\/loki\.db/);
    }
    expect(statSync(databasePath(workspace)).size).toBe(0);
    expect(snapshotLoki(workspace)).toEqual(before);
  }, 120_000);

  it('refuses a deleted store when the workspace has history, and never creates a new one', async () => {
    const { workspace, args } = await completedWorkspace();
    using _ = workspace;
    rmSync(databasePath(workspace));
    const before = snapshotLoki(workspace);

    for (const command of [['status'], ['run', 'prd.md', ...args], ['resume', ...args]]) {
      const stderr = expectOneLineError(await loki(workspace, command), 2);
      expect(stderr, command.join(' ')).toMatch(/\.loki\/loki\.db is missing/);
      expect(stderr).toContain('backup');
    }
    expect(existsSync(databasePath(workspace))).toBe(false);
    expect(snapshotLoki(workspace)).toEqual(before);
  }, 120_000);

  it('backs the store up when a run ends, and the backup restores the history', async () => {
    const { workspace } = await completedWorkspace();
    using _ = workspace;
    const backups = readdirSync(backupsDirectory(workspace));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^loki-[\w-]+\.db$/);
    const backup = join(backupsDirectory(workspace), backups[0] ?? '');
    {
      using copy = new DatabaseSync(backup, { readOnly: true });
      expect(copy.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
      expect(copy.prepare("SELECT COUNT(*) AS count FROM tasks WHERE status = 'completed'").get()).toEqual({
        count: 2,
      });
    }

    writeFileSync(databasePath(workspace), '');
    copyFileSync(backup, databasePath(workspace));
    const status = parseJsonOutput<StatusReport>(await loki(workspace, ['status', '--json']));
    expect(status.run?.status).toBe('completed');
    expect(status.queue.completed).toBe(2);
  }, 120_000);
});

describe('a corrupt store', () => {
  it('is one line that says what happened and how to recover, for every command (real process, no stack trace)', async () => {
    const { workspace, args } = await completedWorkspace();
    using _ = workspace;
    writeFileSync(databasePath(workspace), Buffer.alloc(64 * 1024, 'garbage! '));

    for (const command of [['status'], ['resume', ...args], ['queue', 'list']]) {
      const stderr = expectOneLineError(lokiProcess(workspace, command), 1);
      expect(stderr, command.join(' ')).toMatch(/\.loki\/loki\.db is corrupt/);
      expect(stderr).toMatch(/cp \.loki\/artifacts\/backups\/loki-[\w-]+\.db \.loki\/loki\.db/);
    }
  }, 120_000);

  it('is found by loki doctor, which names the newest backup; a sound store passes', async () => {
    const { workspace } = await completedWorkspace();
    using _ = workspace;
    const [backup] = readdirSync(backupsDirectory(workspace));

    const sound = await loki(workspace, ['doctor', '--json']);
    const soundStore = parseJsonOutput<DoctorReport>(sound).checks.find((check) => check.name === 'store');
    expect(soundStore).toMatchObject({ isRequired: true, status: 'ok' });
    expect(soundStore?.detail).toContain('integrity ok');
    expect(soundStore?.detail).toContain(`.loki/artifacts/backups/${backup}`);

    // Damage the pages after the header: SQLite still opens the file, and its data is wrong.
    const database = readFileSync(databasePath(workspace));
    database.fill(0x5a, 4096, database.length);
    writeFileSync(databasePath(workspace), database);
    const damaged = await loki(workspace, ['doctor', '--json']);
    expect(damaged.exitCode).toBe(1);
    const damagedStore = parseJsonOutput<DoctorReport>(damaged).checks.find(
      (check) => check.name === 'store',
    );
    expect(damagedStore).toMatchObject({ isRequired: true, status: 'warning' });
    expect(damagedStore?.detail).toMatch(/corrupt/);
    expect(damagedStore?.fix).toContain(`cp .loki/artifacts/backups/${backup} .loki/loki.db`);
  }, 120_000);
});
