import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import type { RunSettingsData } from '../events/index.ts';
import { selectProvider } from '../providers/index.ts';
import { describeRunSettings, resolveRunSettings, type RunSettingFlags } from './run-settings.ts';

const RECORDED: RunSettingsData = {
  provider: 'scripted',
  models: { planning: null, default: 'recorded-model', fast: null },
  script: '/runs/session.json',
  parallel: 3,
  budgetUsd: 2,
  maxTaskAttempts: 4,
  perpetual: true,
  maxIterations: 5,
  deploy: false,
  store: { kind: 'sqlite', location: '/runs/.loki/loki.db' },
};

describe('resolveRunSettings', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'loki-run-settings-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function resolveWith(
    flags: RunSettingFlags,
    recorded: RunSettingsData | null,
    env: Record<string, string> = {},
    overrides: Record<string, string> = {},
  ) {
    const config = loadConfig({ workspaceRoot: root, env: { HOME: root, ...env }, overrides });
    return resolveRunSettings({
      flags,
      config,
      recorded,
      cwd: root,
      store: RECORDED.store,
      selectProvider: (choice) =>
        selectProvider({
          ...(choice === undefined ? {} : { flag: choice }),
          env,
          isOnPath: () => false,
          isFile: () => false,
        }),
    });
  }

  it('resumes with what the run recorded, whatever the environment says now', () => {
    const resolved = resolveWith({}, RECORDED, {
      LOKI_PROVIDER: 'anthropic',
      LOKI_MAX_PARALLEL_AGENTS: '9',
      LOKI_BUDGET_USD: '50',
    });
    expect(resolved.settings).toEqual(RECORDED);
    expect(resolved.given).toEqual([]);
    expect(describeRunSettings(resolved)).toBe(
      'provider scripted, models default recorded-model, script /runs/session.json, parallel 3, budget $2, ' +
        'max task attempts 4, perpetual, max iterations 5, no deploy, store sqlite (from the run)',
    );
  });

  it('keeps --no-deploy on resume; --deploy given again deploys; a run recorded without it deploys', () => {
    expect(resolveWith({}, RECORDED).settings.deploy).toBe(false);
    const deployed = resolveWith({ deploy: true }, RECORDED);
    expect(deployed.settings.deploy).toBe(true);
    expect(deployed.given).toEqual(['deploy']);
    const { deploy: _deploy, ...older } = RECORDED;
    expect(resolveWith({}, older as RunSettingsData).settings.deploy).toBe(true);
    const skipped = resolveWith({ provider: 'scripted', deploy: false }, null);
    expect(describeRunSettings(skipped)).toContain('no deploy (from --no-deploy)');
  });

  it('lets flags and -c given again win, and says where each came from', () => {
    const resolved = resolveWith({ parallel: '1', budget: '0.5' }, RECORDED, {}, { maxParallelAgents: '2' });
    expect(resolved.settings).toMatchObject({ parallel: 1, budgetUsd: 0.5, maxTaskAttempts: 4 });
    expect(resolved.given).toEqual(['parallel', 'budgetUsd']);
    const fromConfigFlag = resolveWith({}, RECORDED, {}, { maxParallelAgents: '2', modelFast: 'quick' });
    expect(fromConfigFlag.settings.parallel).toBe(2);
    expect(fromConfigFlag.settings.models).toEqual({ planning: null, default: null, fast: 'quick' });
    expect(fromConfigFlag.given).toEqual(['models', 'parallel']);
    expect(describeRunSettings(fromConfigFlag)).toContain('parallel 2 (from -c maxParallelAgents=2)');
  });

  it('starts a provider given anew from the configured models and script, not the recorded ones', () => {
    const resolved = resolveWith({ provider: 'anthropic' }, RECORDED, { LOKI_MODEL_DEFAULT: 'claude-x' });
    expect(resolved.settings).toMatchObject({
      provider: 'anthropic',
      models: { planning: null, default: 'claude-x', fast: null },
      script: null,
      parallel: 3,
    });
  });

  it('takes a new run from flags, then the configuration, then the defaults', () => {
    const resolved = resolveWith({ provider: 'scripted', script: 'session.json' }, null, {
      LOKI_MAX_PARALLEL_AGENTS: '6',
    });
    expect(resolved.settings).toEqual({
      provider: 'scripted',
      models: { planning: null, default: null, fast: null },
      script: join(root, 'session.json'),
      parallel: 6,
      budgetUsd: null,
      maxTaskAttempts: 3,
      perpetual: false,
      maxIterations: null,
      deploy: true,
      store: RECORDED.store,
    });
    expect(describeRunSettings(resolved)).toBe(
      `provider scripted (from --provider); script ${join(root, 'session.json')} (from --script); ` +
        'parallel 6 (from LOKI_MAX_PARALLEL_AGENTS); max task attempts 3 (defaults); store sqlite (from the workspace)',
    );
    expect(() => resolveWith({ provider: 'scripted', maxIterations: '2' }, null)).toThrow(/add --perpetual/);
  });
});
