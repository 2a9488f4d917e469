import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import { SqliteStore } from '../store/index.ts';
import { readRecordedProjectGates, recordProjectGates } from './project-gates.ts';

describe('the project gates a run records in the store', () => {
  let directory: string;
  let store: SqliteStore;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'loki-project-gates-'));
    store = await SqliteStore.open(join(directory, 'loki.db'), { clock: new ManualClock() });
    await store.createRun({ id: 'run-1', prdPath: null, phase: 'architecture' });
    await store.createRun({ id: 'run-2', prdPath: null, phase: 'architecture' });
  });
  afterEach(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('are none until the run records them: its tasks keep their own verify commands', async () => {
    expect(await readRecordedProjectGates(store, 'run-1')).toEqual([]);
  });

  it('are the ones the run recorded last, never another run’s', async () => {
    await recordProjectGates(store, 'run-1', ['npm test']);
    await recordProjectGates(store, 'run-2', ['cargo test']);
    await recordProjectGates(store, 'run-1', ['npm test', 'npm run lint']);

    expect(await readRecordedProjectGates(store, 'run-1')).toEqual(['npm test', 'npm run lint']);
    expect(await readRecordedProjectGates(store, 'run-2')).toEqual(['cargo test']);
  });

  it('refuses an empty list: a run that records gates has at least one', async () => {
    await expect(recordProjectGates(store, 'run-1', [])).rejects.toMatchObject({ code: 'EVENT_INVALID' });
    expect(await readRecordedProjectGates(store, 'run-1')).toEqual([]);
  });
});
