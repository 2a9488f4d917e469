import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContinuityFile } from './continuity-file.ts';
import { CONTINUITY_SECTIONS, continuityTemplate } from './workspace-templates.ts';

describe('ContinuityFile', () => {
  let directory: string;
  let continuity: ContinuityFile;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'loki-continuity-'));
    continuity = new ContinuityFile(join(directory, 'CONTINUITY.md'));
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

  it('keeps text a person added and restores a missing section', () => {
    writeFileSync(continuity.path, '# CONTINUITY\n\nMy own notes.\n\n## Current Task\n\nold\n');
    continuity.appendToSection('Mistakes & Learnings', 'lesson');
    continuity.replaceSection('Current Task', 'new');
    expect(readFileSync(continuity.path, 'utf8')).toBe(
      '# CONTINUITY\n\nMy own notes.\n\n## Current Task\n\nnew\n\n## Mistakes & Learnings\n\n- lesson\n',
    );
  });
});
