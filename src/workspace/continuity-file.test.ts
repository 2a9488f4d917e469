import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedactor } from '../sandbox/index.ts';
import { ContinuityFile } from './continuity-file.ts';
import { CONTINUITY_SECTIONS, continuityTemplate } from './workspace-templates.ts';

describe('ContinuityFile', () => {
  let directory: string;
  let continuity: ContinuityFile;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-continuity-'));
    continuity = new ContinuityFile(join(directory, 'CONTINUITY.md'), null);
    writeFileSync(continuity.path, continuityTemplate());
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('replaces one section and appends lessons, leaving the others and their order alone', () => {
    continuity.replaceSection(
      'Current Task',
      'task-1: add the health endpoint\n\nacceptance: GET /health → 200',
    );
    continuity.appendToSection(
      'Mistakes & Learnings',
      'task-1: `npm test` needs the server to listen on a free port',
    );
    continuity.appendToSection('Mistakes & Learnings', 'task-1: second\nline lesson');
    continuity.replaceSection('Current Task', 'task-2: docs');
    expect(continuity.section('Current Task')).toBe('task-2: docs');
    expect(continuity.section('Mistakes & Learnings')).toBe(
      '- task-1: `npm test` needs the server to listen on a free port\n- task-1: second line lesson',
    );
    expect(continuity.section('Just Completed')).toBe('');
    const text = readFileSync(continuity.path, 'utf8');
    expect([...text.matchAll(/^## (.+)$/gm)].map((match) => match[1])).toEqual([...CONTINUITY_SECTIONS]);
    expect(text).not.toMatch(/\n\n\n/);
  });

  it('writes what its redactor makes of the text: the file is meant to be committed', () => {
    const redacting = new ContinuityFile(
      continuity.path,
      createRedactor({ env: { OPENAI_API_KEY: 'plain-secret-value-42' } }),
    );
    redacting.replaceSection('Just Completed', 'task-1: called the API with plain-secret-value-42');
    redacting.appendToSection('Mistakes & Learnings', 'task-2: never print plain-secret-value-42');
    const text = readFileSync(continuity.path, 'utf8');
    expect(text).not.toContain('plain-secret-value-42');
    expect(redacting.section('Just Completed')).toBe('task-1: called the API with [REDACTED]');
    expect(redacting.section('Mistakes & Learnings')).toBe('- task-2: never print [REDACTED]');
  });

  it('keeps text a person added and restores a missing section', () => {
    writeFileSync(continuity.path, '# CONTINUITY\n\nMy own notes.\n\n## Current Task\n\nold\n');
    continuity.appendToSection('Mistakes & Learnings', 'lesson');
    continuity.replaceSection('Current Task', 'new');
    expect(readFileSync(continuity.path, 'utf8')).toBe(
      '# CONTINUITY\n\nMy own notes.\n\n## Current Task\n\nnew\n\n## Mistakes & Learnings\n\n- lesson\n',
    );
  });
});
