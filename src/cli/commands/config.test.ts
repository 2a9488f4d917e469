import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import { LokiError } from '../../errors/index.ts';
import type { CliContext } from '../cli-context.ts';
import { registerConfigCommands } from './config.ts';

let workspaceRoot: string;
let output: string[];

beforeEach(() => {
  workspaceRoot = mkdtempSync(join(tmpdir(), 'loki-config-command-'));
  output = [];
});

afterEach(() => {
  rmSync(workspaceRoot, { recursive: true, force: true });
});

/** The same global `-c` option main.ts declares, without importing the other commands. */
async function runConfig(argv: string[], env: Record<string, string> = {}): Promise<CliContext> {
  const context: CliContext = {
    cwd: workspaceRoot,
    env,
    clock: new ManualClock(),
    stdout: (text) => output.push(text),
    stderr: (text) => output.push(text),
    exitCode: 0,
  };
  const program = new Command('loki')
    .option(
      '-c, --config <key=value>',
      'override',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .exitOverride();
  registerConfigCommands(program, context);
  await program.parseAsync(argv, { from: 'user' });
  return context;
}

describe('loki config show', () => {
  it('prints values and sources as JSON, honouring files, env and -c flags', async () => {
    const workspaceFile = join(workspaceRoot, '.loki', 'config', 'loki.yaml');
    mkdirSync(join(workspaceRoot, '.loki', 'config'), { recursive: true });
    writeFileSync(workspaceFile, 'maxRetries: 7\n');

    await runConfig(['-c', 'maxParallelAgents=3', 'config', 'show', '--json'], {
      LOKI_SKIP_PREREQS: 'yes',
      LOKI_MODEL_DEFAULT: 'claude-haiku-5-5',
    });

    expect(JSON.parse(output.join(''))).toEqual({
      values: {
        maxRetries: 7,
        baseWait: 60,
        maxWait: 3600,
        skipPrereqs: true,
        maxParallelAgents: 3,
        followMachineLoad: true,
        dashboardPort: 57374,
        budgetUsd: 0,
        provider: '',
        modelPlanning: '',
        modelDefault: 'claude-haiku-5-5',
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
      },
      sources: {
        maxRetries: `workspace file ${workspaceFile}`,
        baseWait: 'default',
        maxWait: 'default',
        skipPrereqs: 'env LOKI_SKIP_PREREQS',
        maxParallelAgents: 'flag -c maxParallelAgents=3',
        followMachineLoad: 'default',
        dashboardPort: 'default',
        budgetUsd: 'default',
        provider: 'default',
        modelPlanning: 'default',
        modelDefault: 'env LOKI_MODEL_DEFAULT',
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
      },
    });
  });

  it('never prints the password of a PostgreSQL store URL, in the table or in --json', async () => {
    const env = { LOKI_STORE_URL: 'postgres://loki:hunter2-secret@db.example:5432/loki' };
    await runConfig(['config', 'show'], env);
    await runConfig(['config', 'show', '--json'], env);
    const printed = output.join('');
    expect(printed).not.toContain('hunter2-secret');
    expect(printed).toContain('postgres://loki:***@db.example:5432/loki');
  });

  it('prints an aligned key/value/source table', async () => {
    await runConfig(['config', 'show'], { LOKI_DASHBOARD_PORT: '8080' });
    const lines = output.join('').trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY +VALUE +SOURCE$/);
    const valueColumn = (lines[0] ?? '').indexOf('VALUE');
    const sourceColumn = (lines[0] ?? '').indexOf('SOURCE');
    const row = (key: string, value: string, source: string) =>
      `${key.padEnd(valueColumn)}${value.padEnd(sourceColumn - valueColumn)}${source}`;
    expect(lines).toContain(row('dashboardPort', '8080', 'env LOKI_DASHBOARD_PORT'));
    expect(lines).toContain(row('maxRetries', '50', 'default'));
    expect(lines).toContain(row('modelDefault', '(default)', 'default'));
    expect(lines).toContain(row('providerLimits', '{}', 'default'));
    expect(lines).toContain(
      row('sandbox.allowedHosts', 'registry.npmjs.org,pypi.org,… (12 in all)', 'default'),
    );
    // The header and one row per key.
    expect(lines).toHaveLength(23);
  });

  it('turns a bad -c flag into a usage error', async () => {
    const attempt = runConfig(['-c', 'maxParallelAgents', 'config', 'show']);
    await expect(attempt).rejects.toBeInstanceOf(LokiError);
    await expect(attempt).rejects.toMatchObject({ code: 'LOKI_CONFIG_OVERRIDE_MALFORMED', exitCode: 2 });
  });

  it('reports an invalid value with its source', async () => {
    await expect(runConfig(['-c', 'maxParallelAgents=0', 'config', 'show'])).rejects.toMatchObject({
      code: 'LOKI_CONFIG_INVALID',
      message: expect.stringContaining('(from flag -c maxParallelAgents=0)'),
    });
  });
});

describe('loki config gates', () => {
  it('prints the documented defaults, then what gates.yaml sets', async () => {
    await runConfig(['config', 'gates']);
    const table = output.join('');
    expect(table).toContain('Quality gates from defaults (no .loki/config/gates.yaml)');
    expect(table).toMatch(/^unit-tests +yes +yes +yes +yes$/m);
    expect(table).toMatch(/^coverage +- +yes +yes +yes$/m);

    mkdirSync(join(workspaceRoot, '.loki', 'config'), { recursive: true });
    writeFileSync(
      join(workspaceRoot, '.loki', 'config', 'gates.yaml'),
      'merge: [lint]\nnonBlocking: [coverage]\nthresholds:\n  minimumLineCoverage: 70\n',
    );
    output = [];
    await runConfig(['config', 'gates', '--json']);
    expect(JSON.parse(output.join(''))).toMatchObject({
      stages: { merge: ['lint'] },
      nonBlocking: ['coverage'],
      thresholds: { minimumLineCoverage: 70 },
    });
  });
});
