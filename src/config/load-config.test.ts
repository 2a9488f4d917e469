import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LokiError } from '../errors/index.ts';
import {
  CONFIG_KEYS,
  closestConfigKey,
  describeConfigSource,
  type LoadConfigOptions,
  loadConfig,
  parseConfigOverrides,
} from './index.ts';

let home: string;
let workspaceRoot: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'loki-config-home-'));
  workspaceRoot = mkdtempSync(join(tmpdir(), 'loki-config-workspace-'));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(workspaceRoot, { recursive: true, force: true });
});

function userFile(): string {
  return join(home, '.loki', 'config.yaml');
}

function workspaceFile(): string {
  return join(workspaceRoot, '.loki', 'config', 'loki.yaml');
}

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

function load(options: Partial<LoadConfigOptions> = {}) {
  return loadConfig({ workspaceRoot, env: { HOME: home }, ...options });
}

/** Runs `action`, expects a LokiError and returns it so the test can look at code and message. */
function captureError(action: () => unknown): LokiError {
  try {
    action();
  } catch (error) {
    if (error instanceof LokiError) return error;
    throw error;
  }
  throw new Error('expected a LokiError, but nothing was thrown');
}

describe('loadConfig precedence', () => {
  it('uses the defaults when nothing is configured', () => {
    const config = load();
    expect(config.values).toEqual({
      maxRetries: 50,
      baseWait: 60,
      maxWait: 3600,
      skipPrereqs: false,
      maxParallelAgents: 10,
      followMachineLoad: true,
      dashboardPort: 57374,
      budgetUsd: 0,
      provider: '',
      modelPlanning: '',
      modelDefault: '',
      modelFast: '',
      leaseSeconds: 120,
      rateLimitRequeueSeconds: 5,
      providerLimits: {},
      store: '',
      sealedAcceptanceTests: false,
      'sandbox.network': 'registries',
      'sandbox.allowedHosts': expect.arrayContaining(['registry.npmjs.org']),
      'review.enabled': 'auto',
      'review.taskTypes': expect.arrayContaining(['eng-backend']),
      'review.maxRounds': 2,
    });
    for (const info of CONFIG_KEYS) expect(config.sources[info.key]).toEqual({ kind: 'default' });
  });

  it('lets each layer override the one below and reports where every value came from', () => {
    write(userFile(), 'maxRetries: 1\nbaseWait: 2\nmaxWait: 3000\nmaxParallelAgents: 4\n');
    write(workspaceFile(), 'baseWait: 20\nmaxWait: 3100\nmaxParallelAgents: 40\n');
    const config = load({
      env: { HOME: home, LOKI_MAX_WAIT: '3200', LOKI_MAX_PARALLEL_AGENTS: '41' },
      overrides: { maxParallelAgents: '42' },
    });

    expect(config.values).toEqual({
      maxRetries: 1,
      baseWait: 20,
      maxWait: 3200,
      skipPrereqs: false,
      maxParallelAgents: 42,
      followMachineLoad: true,
      dashboardPort: 57374,
      budgetUsd: 0,
      provider: '',
      modelPlanning: '',
      modelDefault: '',
      modelFast: '',
      leaseSeconds: 120,
      rateLimitRequeueSeconds: 5,
      providerLimits: {},
      store: '',
      sealedAcceptanceTests: false,
      'sandbox.network': 'registries',
      'sandbox.allowedHosts': expect.arrayContaining(['registry.npmjs.org']),
      'review.enabled': 'auto',
      'review.taskTypes': expect.arrayContaining(['eng-backend']),
      'review.maxRounds': 2,
    });
    const described = Object.fromEntries(
      CONFIG_KEYS.map((info) => [info.key, describeConfigSource(config.sources[info.key])]),
    );
    expect(described).toEqual({
      maxRetries: `user file ${userFile()}`,
      baseWait: `workspace file ${workspaceFile()}`,
      maxWait: 'env LOKI_MAX_WAIT',
      skipPrereqs: 'default',
      maxParallelAgents: 'flag -c maxParallelAgents=42',
      followMachineLoad: 'default',
      dashboardPort: 'default',
      budgetUsd: 'default',
      provider: 'default',
      modelPlanning: 'default',
      modelDefault: 'default',
      modelFast: 'default',
      leaseSeconds: 'default',
      rateLimitRequeueSeconds: 'default',
      providerLimits: 'default',
      store: 'default',
      sealedAcceptanceTests: 'default',
      'sandbox.network': 'default',
      'sandbox.allowedHosts': 'default',
      'review.enabled': 'default',
      'review.taskTypes': 'default',
      'review.maxRounds': 'default',
    });
  });

  it('finds the user file through the injected HOME and skips it when HOME is unset', () => {
    write(userFile(), 'dashboardPort: 8080\n');
    expect(load().values.dashboardPort).toBe(8080);
    expect(load({ env: {} }).values.dashboardPort).toBe(57374);
  });

  it('treats an empty or comment-only file as setting nothing', () => {
    write(userFile(), '');
    write(workspaceFile(), '# nothing here yet\n');
    expect(load().values.maxRetries).toBe(50);
  });

  it('ignores LOKI_* variables that are not configuration keys', () => {
    expect(load({ env: { HOME: home, LOKI_PROVIDER: 'anthropic' } }).values.maxRetries).toBe(50);
  });
});

describe('loadConfig boolean parsing', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['No', false],
  ])('reads LOKI_SKIP_PREREQS=%s as %s', (text, expected) => {
    expect(load({ env: { HOME: home, LOKI_SKIP_PREREQS: text } }).values.skipPrereqs).toBe(expected);
  });

  it('accepts YAML booleans from files and text booleans from flags', () => {
    write(workspaceFile(), 'skipPrereqs: true\n');
    expect(load().values.skipPrereqs).toBe(true);
    expect(load({ overrides: { skipPrereqs: 'no' } }).values.skipPrereqs).toBe(false);
  });

  it.each(['', 'y', 'on', '2', ' true'])('rejects LOKI_SKIP_PREREQS=%j', (text) => {
    const error = captureError(() => load({ env: { HOME: home, LOKI_SKIP_PREREQS: text } }));
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.message).toBe(
      `invalid configuration: skipPrereqs = ${JSON.stringify(text)} (from env LOKI_SKIP_PREREQS): ` +
        'expected true or false (also accepted: 1/0, yes/no). Fix the value or unset it.',
    );
  });

  it('rejects a quoted "true" in a file, where YAML already has a boolean type', () => {
    write(workspaceFile(), 'skipPrereqs: "true"\n');
    expect(captureError(() => load()).code).toBe('LOKI_CONFIG_INVALID');
  });
});

describe('loadConfig invalid values', () => {
  it('names key, value, source, reason and fix for a bad env var', () => {
    const error = captureError(() => load({ env: { HOME: home, LOKI_MAX_PARALLEL_AGENTS: 'abc' } }));
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.category).toBe('user');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      'invalid configuration: maxParallelAgents = "abc" (from env LOKI_MAX_PARALLEL_AGENTS): ' +
        'expected a whole number from 1 to 256. Fix the value or unset it.',
    );
  });

  it.each(['12abc', '1.5', '', ' 12', '0x10', '1e3'])('coerces env numbers strictly: rejects %j', (text) => {
    const error = captureError(() => load({ env: { HOME: home, LOKI_MAX_RETRIES: text } }));
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.message).toContain(`maxRetries = ${JSON.stringify(text)} (from env LOKI_MAX_RETRIES)`);
  });

  it('rejects numbers outside the range of the key', () => {
    expect(
      captureError(() => load({ env: { HOME: home, LOKI_MAX_PARALLEL_AGENTS: '0' } })).message,
    ).toContain('expected a whole number from 1 to 256');
    expect(captureError(() => load({ env: { HOME: home, LOKI_DASHBOARD_PORT: '65536' } })).message).toContain(
      'expected a whole number from 0 to 65535',
    );
    // 0: the dashboard takes any free port (tests that run side by side use it).
    expect(load({ env: { HOME: home, LOKI_DASHBOARD_PORT: '0' } }).values.dashboardPort).toBe(0);
    expect(captureError(() => load({ env: { HOME: home, LOKI_MAX_RETRIES: '-1' } })).message).toContain(
      'expected a whole number, at least 0',
    );
    expect(captureError(() => load({ env: { HOME: home, LOKI_MAX_WAIT: '0' } })).message).toContain(
      'expected a whole number of seconds, at least 1',
    );
  });

  it('reports a bad value in the user file with its path', () => {
    write(userFile(), 'baseWait: 1.5\n');
    const error = captureError(() => load());
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.message).toBe(
      `invalid configuration: baseWait = 1.5 (from user file ${userFile()}): ` +
        `expected a whole number of seconds, at least 0. Fix the value or remove the key from ${userFile()}.`,
    );
  });

  it('reports a bad value in the workspace file even when a higher layer overrides it', () => {
    write(workspaceFile(), 'maxRetries: "12"\n');
    const error = captureError(() => load({ env: { HOME: home, LOKI_MAX_RETRIES: '3' } }));
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.message).toBe(
      `invalid configuration: maxRetries = "12" (from workspace file ${workspaceFile()}): ` +
        `expected a whole number, at least 0. Fix the value or remove the key from ${workspaceFile()}.`,
    );
  });

  it('reports a bad -c flag with the flag as written', () => {
    const error = captureError(() => load({ overrides: { dashboardPort: 'eighty' } }));
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.message).toBe(
      'invalid configuration: dashboardPort = "eighty" (from flag -c dashboardPort=eighty): ' +
        'expected a whole number from 0 to 65535. Fix the value or drop the flag.',
    );
  });

  it('rejects maxWait below baseWait, naming both keys and their sources', () => {
    write(workspaceFile(), 'baseWait: 120\n');
    const error = captureError(() => load({ env: { HOME: home, LOKI_MAX_WAIT: '60' } }));
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      `invalid configuration: maxWait = 60 (from env LOKI_MAX_WAIT) conflicts with baseWait = 120 ` +
        `(from workspace file ${workspaceFile()}): maxWait must be at least baseWait. Raise maxWait or lower baseWait.`,
    );
  });

  it('accepts maxWait equal to baseWait', () => {
    expect(load({ overrides: { baseWait: '90', maxWait: '90' } }).values).toMatchObject({
      baseWait: 90,
      maxWait: 90,
    });
  });
});

describe('loadConfig unknown keys and bad files', () => {
  it('rejects an unknown key in a file and suggests the closest known key', () => {
    write(workspaceFile(), 'maxRetry: 3\n');
    const error = captureError(() => load());
    expect(error.code).toBe('LOKI_CONFIG_UNKNOWN_KEY');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      `invalid configuration: unknown key "maxRetry" (from workspace file ${workspaceFile()}). Did you mean "maxRetries"?`,
    );
  });

  it('rejects an unknown -c key and lists the known keys when nothing is close', () => {
    const error = captureError(() => load({ overrides: { color: 'blue' } }));
    expect(error.code).toBe('LOKI_CONFIG_UNKNOWN_KEY');
    expect(error.message).toBe(
      'invalid configuration: unknown key "color" (from flag -c color=blue). ' +
        'Known keys: maxRetries, baseWait, maxWait, skipPrereqs, maxParallelAgents, followMachineLoad, dashboardPort, budgetUsd, provider, modelPlanning, modelDefault, modelFast, leaseSeconds, rateLimitRequeueSeconds, providerLimits, store, sealedAcceptanceTests, sandbox.network, sandbox.allowedHosts, review.enabled, review.taskTypes, review.maxRounds.',
    );
  });

  it('suggests camelCase keys for env-style and snake_case spellings', () => {
    expect(closestConfigKey('LOKI_MAX_PARALLEL_AGENTS')).toBe('maxParallelAgents');
    expect(closestConfigKey('dashboard_port')).toBe('dashboardPort');
    expect(closestConfigKey('basewait')).toBe('baseWait');
    expect(closestConfigKey('LOKI_MODEL_DEFAULT')).toBe('modelDefault');
    expect(closestConfigKey('colour')).toBeUndefined();
  });

  it('names the file, line and column of a YAML syntax error', () => {
    write(userFile(), 'maxRetries: 3\nbaseWait: [1, 2\n');
    const error = captureError(() => load());
    expect(error.code).toBe('LOKI_CONFIG_SYNTAX');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(
      new RegExp(
        `^invalid configuration: YAML syntax error in user file ${userFile()} at line 3, column 1: .+\\. Fix the YAML syntax\\.$`,
      ),
    );
    expect(error.message).not.toContain('\n');
  });

  it('reports a duplicated key as a YAML error with its line', () => {
    write(workspaceFile(), 'maxRetries: 3\nmaxRetries: 4\n');
    const error = captureError(() => load());
    expect(error.code).toBe('LOKI_CONFIG_SYNTAX');
    expect(error.message).toContain(`${workspaceFile()} at line 2, column 1: Map keys must be unique`);
  });

  it('rejects a file that is not a mapping', () => {
    write(workspaceFile(), '- maxRetries\n- 3\n');
    const error = captureError(() => load());
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.message).toContain(`workspace file ${workspaceFile()} must be a YAML mapping`);
  });

  it('reports a configuration path that cannot be read as a file', () => {
    mkdirSync(workspaceFile(), { recursive: true });
    const error = captureError(() => load());
    expect(error.code).toBe('LOKI_CONFIG_UNREADABLE');
    expect(error.message).toContain(workspaceFile());
  });
});

describe('parseConfigOverrides', () => {
  it('splits key=value at the first "=" and keeps the last value for a repeated key', () => {
    expect(parseConfigOverrides(['maxRetries=3', 'skipPrereqs=yes', 'maxRetries=4', 'odd=a=b'])).toEqual({
      maxRetries: '4',
      skipPrereqs: 'yes',
      odd: 'a=b',
    });
  });

  it('keeps an empty value so loadConfig can reject it with the key named', () => {
    expect(parseConfigOverrides(['maxRetries='])).toEqual({ maxRetries: '' });
  });

  it.each(['maxRetries', '=3', ''])('rejects %j as a usage error', (assignment) => {
    const error = captureError(() => parseConfigOverrides([assignment]));
    expect(error.code).toBe('LOKI_CONFIG_OVERRIDE_MALFORMED');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('expected key=value');
  });
});

describe('CONFIG_KEYS', () => {
  it('reads a budget in dollars and cents and rejects a negative one', () => {
    expect(load({ env: { LOKI_BUDGET_USD: '2.50' } }).values.budgetUsd).toBe(2.5);
    const error = captureError(() => load({ env: { LOKI_BUDGET_USD: '-1' } }));
    expect(error.message).toContain(
      'budgetUsd = "-1" (from env LOKI_BUDGET_USD): expected an amount of US dollars',
    );
  });

  it('accepts model names and rejects ones with spaces, naming the variable', () => {
    expect(load({ env: { LOKI_MODEL_FAST: 'qwen3:8b' } }).values.modelFast).toBe('qwen3:8b');
    const error = captureError(() => load({ env: { LOKI_MODEL_FAST: 'my model' } }));
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.message).toContain(
      'modelFast = "my model" (from env LOKI_MODEL_FAST): expected a name without spaces',
    );
  });

  it('reads per-provider limits from a file or as JSON from env and flags, naming a wrong field', () => {
    write(
      workspaceFile(),
      'providerLimits:\n  anthropic:\n    maxConcurrentRequests: 4\n    requestsPerMinute: 50\n',
    );
    expect(load().values.providerLimits).toEqual({
      anthropic: { maxConcurrentRequests: 4, requestsPerMinute: 50 },
    });
    expect(
      load({ env: { HOME: home, LOKI_PROVIDER_LIMITS: '{"openai": {"requestsPerMinute": 500}}' } }).values
        .providerLimits,
    ).toEqual({ openai: { requestsPerMinute: 500 } });
    expect(load({ overrides: { providerLimits: '{}' } }).values.providerLimits).toEqual({});

    const wrongField = captureError(() =>
      load({ overrides: { providerLimits: '{"anthropic": {"requestsPerMinute": 0}}' } }),
    );
    expect(wrongField.code).toBe('LOKI_CONFIG_INVALID');
    expect(wrongField.message).toContain('anthropic.requestsPerMinute: expected a whole number from 1 to');
    const unknownField = captureError(() =>
      load({ overrides: { providerLimits: '{"anthropic": {"tokensPerHour": 5}}' } }),
    );
    expect(unknownField.message).toMatch(/tokensPerHour|maxConcurrentRequests and\/or requestsPerMinute/);
    const notJson = captureError(() => load({ env: { HOME: home, LOKI_PROVIDER_LIMITS: 'anthropic=4' } }));
    expect(notJson.message).toContain(
      '(from env LOKI_PROVIDER_LIMITS): expected a mapping of provider names',
    );
  });

  it('reads the rate-limit wait above which a task gives its worker back', () => {
    expect(
      load({ env: { HOME: home, LOKI_RATE_LIMIT_REQUEUE_SECONDS: '30' } }).values.rateLimitRequeueSeconds,
    ).toBe(30);
    const error = captureError(() => load({ overrides: { rateLimitRequeueSeconds: '-1' } }));
    expect(error.message).toContain(
      'rateLimitRequeueSeconds = "-1" (from flag -c rateLimitRequeueSeconds=-1)',
    );
  });

  it('reads the sandbox network policy nested or dotted in a file, from env and from flags', () => {
    expect(load().values['sandbox.network']).toBe('registries');
    write(
      workspaceFile(),
      'sandbox:\n  network: none\n  allowedHosts: [npm.internal.example, "*.example.org"]\n',
    );
    expect(load().values['sandbox.network']).toBe('none');
    expect(load().values['sandbox.allowedHosts']).toEqual(['npm.internal.example', '*.example.org']);
    write(workspaceFile(), 'sandbox.network: full\n');
    expect(load().values['sandbox.network']).toBe('full');
    expect(load({ env: { HOME: home, LOKI_SANDBOX_NETWORK: 'none' } }).values['sandbox.network']).toBe(
      'none',
    );
    expect(
      load({ env: { HOME: home, LOKI_SANDBOX_ALLOWED_HOSTS: 'registry.npmjs.org,pypi.org' } }).values[
        'sandbox.allowedHosts'
      ],
    ).toEqual(['registry.npmjs.org', 'pypi.org']);
    expect(
      load({ overrides: { 'sandbox.allowedHosts': '["crates.io"]' } }).values['sandbox.allowedHosts'],
    ).toEqual(['crates.io']);

    const wrongMode = captureError(() => load({ overrides: { 'sandbox.network': 'open' } }));
    expect(wrongMode.code).toBe('LOKI_CONFIG_INVALID');
    expect(wrongMode.message).toContain('expected none, registries or full');
    write(workspaceFile(), 'sandbox:\n  netwrok: none\n');
    expect(captureError(() => load()).message).toContain('sandbox.netwrok');
  });

  it('describes every key with its env var, default and a one-line description', () => {
    expect(CONFIG_KEYS.map((info) => [info.key, info.environmentVariable, info.defaultValue])).toEqual([
      ['maxRetries', 'LOKI_MAX_RETRIES', 50],
      ['baseWait', 'LOKI_BASE_WAIT', 60],
      ['maxWait', 'LOKI_MAX_WAIT', 3600],
      ['skipPrereqs', 'LOKI_SKIP_PREREQS', false],
      ['maxParallelAgents', 'LOKI_MAX_PARALLEL_AGENTS', 10],
      ['followMachineLoad', 'LOKI_FOLLOW_MACHINE_LOAD', true],
      ['dashboardPort', 'LOKI_DASHBOARD_PORT', 57374],
      ['budgetUsd', 'LOKI_BUDGET_USD', 0],
      ['provider', 'LOKI_PROVIDER', ''],
      ['modelPlanning', 'LOKI_MODEL_PLANNING', ''],
      ['modelDefault', 'LOKI_MODEL_DEFAULT', ''],
      ['modelFast', 'LOKI_MODEL_FAST', ''],
      ['leaseSeconds', 'LOKI_LEASE_SECONDS', 120],
      ['rateLimitRequeueSeconds', 'LOKI_RATE_LIMIT_REQUEUE_SECONDS', 5],
      ['providerLimits', 'LOKI_PROVIDER_LIMITS', {}],
      ['store', 'LOKI_STORE_URL', ''],
      ['sealedAcceptanceTests', 'LOKI_SEALED_ACCEPTANCE_TESTS', false],
      ['sandbox.network', 'LOKI_SANDBOX_NETWORK', 'registries'],
      [
        'sandbox.allowedHosts',
        'LOKI_SANDBOX_ALLOWED_HOSTS',
        expect.arrayContaining(['registry.npmjs.org', 'pypi.org']),
      ],
      ['review.enabled', 'LOKI_REVIEW_ENABLED', 'auto'],
      ['review.taskTypes', 'LOKI_REVIEW_TASK_TYPES', expect.arrayContaining(['eng-frontend', 'eng-backend'])],
      ['review.maxRounds', 'LOKI_REVIEW_MAX_ROUNDS', 2],
    ]);
    for (const info of CONFIG_KEYS) {
      expect(info.description).toMatch(/^\S.*\.$/);
      expect(info.description).not.toContain('\n');
    }
  });
});
