import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import type { CliContext } from '../cli-context.ts';
import { registerDoctorCommand } from './doctor.ts';

let binDirectory: string;
let output: string[];

beforeEach(() => {
  binDirectory = mkdtempSync(join(tmpdir(), 'loki-doctor-command-'));
  output = [];
});

afterEach(() => {
  rmSync(binDirectory, { recursive: true, force: true });
});

async function runDoctorCommand(argv: string[], env: Record<string, string>): Promise<CliContext> {
  const context: CliContext = {
    cwd: binDirectory,
    env,
    clock: new ManualClock(),
    stdout: (text) => output.push(text),
    stderr: (text) => output.push(text),
    exitCode: 0,
  };
  const program = new Command('loki').exitOverride();
  registerDoctorCommand(program, context);
  await program.parseAsync(argv, { from: 'user' });
  return context;
}

describe('loki doctor', () => {
  it('exits 0 and prints {ok, checks} as JSON when git is on PATH', async () => {
    const git = join(binDirectory, 'git');
    writeFileSync(git, '#!/bin/sh\necho "git version 2.45.1"\n');
    chmodSync(git, 0o755);

    const context = await runDoctorCommand(['doctor', '--json'], {
      PATH: binDirectory,
      OPENAI_API_KEY: 'sk-hidden',
    });

    expect(context.exitCode).toBe(0);
    const printed = output.join('');
    const report = JSON.parse(printed);
    expect(report.ok).toBe(true);
    expect(report.checks).toContainEqual({
      name: 'git',
      isRequired: true,
      status: 'ok',
      detail: `git version 2.45.1 (${git})`,
    });
    expect(printed).not.toContain('sk-hidden');
  });

  it('sets exit code 1 and names the failing required check when git is missing', async () => {
    const context = await runDoctorCommand(['doctor'], { PATH: '' });
    expect(context.exitCode).toBe(1);
    expect(output.join('')).toContain('Required checks failed: git.');
  });

  it('shows the sandbox network policy in force, where it was set, and the runner', async () => {
    await runDoctorCommand(['doctor', '--json'], {
      PATH: '/usr/bin:/bin',
      LOKI_SANDBOX_NETWORK: 'registries',
      LOKI_SANDBOX_ALLOWED_HOSTS: 'npm.internal.example,pypi.org',
    });
    const report = JSON.parse(output.join('')) as { checks: Array<{ name: string; detail: string }> };
    const check = report.checks.find((candidate) => candidate.name === 'sandbox network');
    expect(check?.detail).toMatch(
      /^registries \(sandbox\.network from env LOKI_SANDBOX_NETWORK\): only npm\.internal\.example, pypi\.org and the provider's model API host.*; runner: (bubblewrap|plain)/,
    );
  });

  it('reports a configuration it cannot read as a finding, not a crash', async () => {
    await runDoctorCommand(['doctor', '--json'], { PATH: '/usr/bin:/bin', LOKI_SANDBOX_NETWORK: 'open' });
    const report = JSON.parse(output.join('')) as {
      checks: Array<{ name: string; status: string; detail: string }>;
    };
    expect(report.checks).toContainEqual(
      expect.objectContaining({
        name: 'sandbox network',
        status: 'warning',
        detail: expect.stringContaining('expected none, registries or full'),
      }),
    );
  });
});
