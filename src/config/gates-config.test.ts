import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLokiError } from '../errors/index.ts';
import { gatesConfigPath, loadGatesConfig } from './gates-config.ts';

const KNOWN = ['unit-tests', 'coverage', 'lint', 'types', 'security', 'performance'];

describe('loadGatesConfig', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'loki-gates-config-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function write(text: string): void {
    mkdirSync(dirname(gatesConfigPath(root)), { recursive: true });
    writeFileSync(gatesConfigPath(root), text);
  }

  function errorOf(text: string): { code: string; message: string } {
    write(text);
    try {
      loadGatesConfig(root, KNOWN);
    } catch (error) {
      if (isLokiError(error)) return { code: error.code, message: error.message };
      throw error;
    }
    throw new Error('no error');
  }

  it('uses the documented defaults when there is no file: cheap gates on merge, all on main', () => {
    expect(loadGatesConfig(root, KNOWN)).toEqual({
      stages: {
        merge: ['unit-tests', 'lint', 'types', 'security'],
        qa: KNOWN,
        deployment: KNOWN,
      },
      nonBlocking: [],
      thresholds: {},
      path: null,
    });
  });

  it('reads the stages (in registry order), non-blocking gates and thresholds', () => {
    write(
      [
        'merge: [lint, unit-tests]',
        'qa: all',
        'deployment: [performance]',
        'nonBlocking: [coverage]',
        'thresholds:',
        '  minimumLineCoverage: 70',
        '  maximumP99Milliseconds: 150',
      ].join('\n'),
    );
    const config = loadGatesConfig(root, KNOWN);
    expect(config.stages).toEqual({ merge: ['unit-tests', 'lint'], qa: KNOWN, deployment: ['performance'] });
    expect(config.nonBlocking).toEqual(['coverage']);
    expect(config.thresholds).toEqual({ minimumLineCoverage: 70, maximumP99Milliseconds: 150 });
    expect(config.path).toBe(gatesConfigPath(root));
  });

  it('refuses an unknown key with the closest known one, naming the file', () => {
    const error = errorOf('merg: [lint]\n');
    expect(error.code).toBe('LOKI_CONFIG_UNKNOWN_KEY');
    expect(error.message).toContain('unknown key "merg"');
    expect(error.message).toContain('Did you mean "merge"?');
    expect(error.message).toContain(gatesConfigPath(root));

    const threshold = errorOf('thresholds:\n  minimumCoverage: 70\n');
    expect(threshold.message).toContain('Did you mean "thresholds.minimumLineCoverage"?');
  });

  it('refuses an unknown gate name with the closest gate and the list', () => {
    const error = errorOf('nonBlocking: [coverge]\n');
    expect(error.code).toBe('LOKI_CONFIG_INVALID');
    expect(error.message).toContain('nonBlocking in');
    expect(error.message).toContain('unknown gate "coverge". Did you mean "coverage"?');
    expect(error.message).toContain('The gates are unit-tests, coverage');
  });

  it('refuses a value of the wrong kind, naming the key and how to write it', () => {
    const threshold = errorOf('thresholds:\n  minimumLineCoverage: 120\n');
    expect(threshold.code).toBe('LOKI_CONFIG_INVALID');
    expect(threshold.message).toContain('thresholds.minimumLineCoverage in');
    expect(threshold.message).toContain('a percentage between 0 and 100');

    const stage = errorOf('qa: some\n');
    expect(stage.message).toContain('qa in');
    expect(stage.message).toContain('Write "all" or a list of gate names');
  });
});
