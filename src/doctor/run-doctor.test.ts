import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DoctorCheck,
  type DoctorReport,
  findExecutable,
  formatDoctorReport,
  runDoctor,
} from './index.ts';

let binDirectory: string;

beforeEach(() => {
  binDirectory = mkdtempSync(join(tmpdir(), 'loki-doctor-bin-'));
});

afterEach(() => {
  rmSync(binDirectory, { recursive: true, force: true });
});

/** A fake tool: a shell script that answers `--version` the way the real one would. */
function fakeExecutable(name: string, script: string, directory = binDirectory): string {
  const path = join(directory, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

function checkNamed(report: DoctorReport, name: string): DoctorCheck {
  const check = report.checks.find((candidate) => candidate.name === name);
  if (check === undefined) throw new Error(`no check named ${name} in ${JSON.stringify(report)}`);
  return check;
}

describe('runDoctor', () => {
  it('passes with git on PATH and reports versions and paths of the tools it finds', async () => {
    const gitPath = fakeExecutable('git', 'echo "git version 2.45.1"');
    const bwrapPath = fakeExecutable('bwrap', 'echo "bubblewrap 0.9.0"');
    const chromiumPath = fakeExecutable('chromium-browser', 'echo "Chromium 126.0.6478.126 snap"');
    const claudePath = fakeExecutable('claude', 'echo "1.0.33 (Claude Code)"');

    const report = await runDoctor({ env: { PATH: binDirectory }, nodeVersion: '24.1.0' });

    expect(report.ok).toBe(true);
    expect(checkNamed(report, 'node')).toMatchObject({ status: 'ok', isRequired: true });
    expect(checkNamed(report, 'node').detail).toMatch(/^v24\.1\.0 \(/);
    expect(checkNamed(report, 'git')).toEqual({
      name: 'git',
      isRequired: true,
      status: 'ok',
      detail: `git version 2.45.1 (${gitPath})`,
    });
    expect(checkNamed(report, 'bwrap')).toMatchObject({
      status: 'ok',
      detail: `bubblewrap 0.9.0 (${bwrapPath})`,
    });
    expect(checkNamed(report, 'chromium')).toMatchObject({
      status: 'ok',
      detail: `Chromium 126.0.6478.126 snap (${chromiumPath})`,
    });
    expect(checkNamed(report, 'claude')).toMatchObject({
      status: 'ok',
      detail: `1.0.33 (Claude Code) (${claudePath})`,
    });
    expect(checkNamed(report, 'codex')).toEqual({
      name: 'codex',
      isRequired: false,
      status: 'missing',
      detail: 'codex not found on PATH; optional: the Codex agent CLI runtime',
      fix: 'npm install -g @openai/codex',
    });
    expect(checkNamed(report, 'agent runtime')).toMatchObject({ status: 'ok', detail: 'available: claude' });
  });

  it('fails when PATH is empty because git is required, and keeps optional tools optional', async () => {
    const report = await runDoctor({ env: { PATH: '' }, nodeVersion: '24.1.0' });

    expect(report.ok).toBe(false);
    expect(checkNamed(report, 'git')).toMatchObject({ status: 'missing', isRequired: true });
    expect(checkNamed(report, 'git').fix).toContain('apt-get install git');
    expect(checkNamed(report, 'bwrap')).toMatchObject({
      status: 'missing',
      isRequired: false,
      fix: 'apt-get install bubblewrap',
    });
    expect(checkNamed(report, 'claude').fix).toBe('npm install -g @anthropic-ai/claude-code');
    expect(checkNamed(report, 'agent runtime').status).toBe('warning');
    // Without bwrap, agent commands would run unisolated: doctor says so.
    expect(checkNamed(report, 'sandbox')).toMatchObject({ status: 'warning', isRequired: false });
    expect(checkNamed(report, 'sandbox').detail).toMatch(/^plain runner: bwrap is not on PATH/);
    const failing = report.checks.filter((check) => check.isRequired && check.status !== 'ok');
    expect(failing.map((check) => check.name)).toEqual(['git']);
  });

  it('passes with only the required tools, even though every optional one is missing', async () => {
    fakeExecutable('git', 'echo "git version 2.39.5"');
    const report = await runDoctor({ env: { PATH: binDirectory }, nodeVersion: '22.13.0' });
    expect(report.ok).toBe(true);
    expect(report.checks.filter((check) => check.status !== 'ok').every((check) => !check.isRequired)).toBe(
      true,
    );
  });

  it('fails on a Node older than 22.13', async () => {
    fakeExecutable('git', 'echo "git version 2.45.1"');
    const report = await runDoctor({ env: { PATH: binDirectory }, nodeVersion: '22.12.0' });
    expect(report.ok).toBe(false);
    expect(checkNamed(report, 'node')).toMatchObject({ status: 'warning', isRequired: true });
    expect(checkNamed(report, 'node').detail).toContain('older than the required 22.13.0');
  });

  it('reports credentials as present or absent without ever including their values', async () => {
    const secret = 'sk-ant-very-secret-value-123';
    const report = await runDoctor({
      env: {
        PATH: '',
        ANTHROPIC_API_KEY: secret,
        OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1',
        OPENAI_API_KEY: '',
      },
      nodeVersion: '24.1.0',
    });

    expect(checkNamed(report, 'ANTHROPIC_API_KEY')).toEqual({
      name: 'ANTHROPIC_API_KEY',
      isRequired: false,
      status: 'ok',
      detail: 'set',
    });
    expect(checkNamed(report, 'OPENAI_BASE_URL')).toMatchObject({ status: 'ok', detail: 'set' });
    expect(checkNamed(report, 'OPENAI_API_KEY')).toMatchObject({ status: 'warning' });
    expect(checkNamed(report, 'agent runtime')).toMatchObject({
      status: 'ok',
      detail: 'available: ANTHROPIC_API_KEY',
    });

    const printed = JSON.stringify(report) + formatDoctorReport(report);
    expect(printed).not.toContain(secret);
    expect(printed).not.toContain('127.0.0.1');
  });

  it('warns about a tool whose --version fails or hangs instead of failing or hanging itself', async () => {
    fakeExecutable('git', 'echo "git version 2.45.1"');
    fakeExecutable('bwrap', 'echo "bwrap: setting up uid map: Permission denied" >&2\nexit 1');
    // A busy loop rather than `sleep`: this PATH holds nothing but the fakes.
    fakeExecutable('claude', 'while :; do :; done');

    // A doctor that waited for the hung tool would never return (the test's own timeout fails it).
    const report = await runDoctor({
      env: { PATH: binDirectory },
      nodeVersion: '24.1.0',
      versionTimeoutMs: 300,
    });

    expect(report.ok).toBe(true);
    expect(checkNamed(report, 'bwrap')).toMatchObject({
      status: 'warning',
      fix: 'apt-get install bubblewrap',
    });
    expect(checkNamed(report, 'bwrap').detail).toContain(
      '--version exited with code 1: bwrap: setting up uid map: Permission denied',
    );
    expect(checkNamed(report, 'claude')).toMatchObject({ status: 'warning' });
    expect(checkNamed(report, 'claude').detail).toContain('did not answer within 300 ms');
  });

  it('fails when the required git is present but broken', async () => {
    fakeExecutable('git', 'exit 127');
    const report = await runDoctor({ env: { PATH: binDirectory }, nodeVersion: '24.1.0' });
    expect(report.ok).toBe(false);
    expect(checkNamed(report, 'git')).toMatchObject({ status: 'warning', isRequired: true });
  });

  it('runs --version with stdin closed, so a tool waiting for input cannot stall it', async () => {
    fakeExecutable('git', 'read answer || echo "git version 2.45.1 (stdin closed)"');
    const report = await runDoctor({
      env: { PATH: binDirectory },
      nodeVersion: '24.1.0',
      versionTimeoutMs: 5000,
    });
    expect(checkNamed(report, 'git').detail).toContain('git version 2.45.1 (stdin closed)');
  });
});

describe('findExecutable', () => {
  it('takes the first match in PATH order and skips non-executable files, directories and relative entries', () => {
    const second = mkdtempSync(join(tmpdir(), 'loki-doctor-bin2-'));
    try {
      writeFileSync(join(binDirectory, 'tool'), 'not executable');
      mkdirSync(join(binDirectory, 'other'));
      const expected = fakeExecutable('tool', 'echo 1', second);
      fakeExecutable('other', 'echo 1', second);
      const pathVariable = ['relative/bin', '', binDirectory, second].join(delimiter);

      expect(findExecutable('tool', pathVariable)).toBe(expected);
      expect(findExecutable('other', pathVariable)).toBe(join(second, 'other'));
      expect(findExecutable('absent', pathVariable)).toBeUndefined();
      expect(findExecutable('tool', undefined)).toBeUndefined();
    } finally {
      rmSync(second, { recursive: true, force: true });
    }
  });
});

describe('formatDoctorReport', () => {
  it('prints one marked line per check, fixes under failures, and a verdict', async () => {
    const report = await runDoctor({ env: { PATH: '' }, nodeVersion: '24.1.0' });
    const text = formatDoctorReport(report);
    const checkLines = text.split('\n').filter((line) => /^[✓✗!] /.test(line));

    expect(checkLines).toHaveLength(report.checks.length);
    expect(text).toMatch(/^✓ node +v24\.1\.0/m);
    expect(text).toMatch(/^✗ git +git not found on PATH/m);
    expect(text).toMatch(/^! bwrap +bwrap not found on PATH/m);
    expect(text).toContain('fix: apt-get install bubblewrap');
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      'Required checks failed: git. Apply the fixes above and run `loki doctor` again.',
    );
  });
});
