import { readFileSync } from 'node:fs';
import type { Redactor } from '../sandbox/index.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { type CONTINUITY_SECTIONS, continuityTemplate } from './workspace-templates.ts';

export type ContinuitySection = (typeof CONTINUITY_SECTIONS)[number];

const EMPTY_SECTION = '_(none yet)_';

/**
 * CONTINUITY.md is the agents' working memory. The harness owns its sections: it replaces a
 * section's body (Current Task, Just Completed) or appends to it (Mistakes & Learnings), and
 * leaves everything else, including text a person added, as it was.
 */
export class ContinuityFile {
  readonly path: string;
  readonly #redactor: Redactor | null;

  /** CONTINUITY.md is meant to be committed: what the harness writes into it passes `redactor`. */
  constructor(path: string, redactor: Redactor | null) {
    this.path = path;
    this.#redactor = redactor;
  }

  read(): string {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return continuityTemplate();
      throw error;
    }
  }

  section(name: ContinuitySection): string {
    const lines = this.read().split('\n');
    const range = sectionRange(lines, name);
    if (range === null) return '';
    const body = lines.slice(range.bodyStart, range.bodyEnd).join('\n').trim();
    return body === EMPTY_SECTION ? '' : body;
  }

  replaceSection(name: ContinuitySection, body: string): void {
    let lines = this.read().split('\n');
    let range = sectionRange(lines, name);
    if (range === null) {
      lines = [...trimTrailingBlankLines(lines), '', `## ${name}`];
      range = { bodyStart: lines.length, bodyEnd: lines.length };
    }
    const redacted = this.#redactor === null ? body : this.#redactor.redact(body);
    const content = redacted.trim() === '' ? EMPTY_SECTION : redacted.trim();
    const updated = [
      ...trimTrailingBlankLines(lines.slice(0, range.bodyStart)),
      '',
      ...content.split('\n'),
      '',
      // The blank line above the next heading is the one just added.
      ...dropLeadingBlankLines(lines.slice(range.bodyEnd)),
    ];
    writeFileAtomic(this.path, `${trimTrailingBlankLines(updated).join('\n')}\n`);
  }

  /** Adds one bullet to a section (e.g. a lesson under Mistakes & Learnings), newest last. */
  appendToSection(name: ContinuitySection, entry: string): void {
    const current = this.section(name);
    const bullet = `- ${entry.trim().replace(/\s*\n\s*/g, ' ')}`;
    this.replaceSection(name, current === '' ? bullet : `${current}\n${bullet}`);
  }
}

/** Lines of a section's body: after its `## name` heading up to the next `## ` heading. */
function sectionRange(
  lines: readonly string[],
  name: ContinuitySection,
): { bodyStart: number; bodyEnd: number } | null {
  const headingIndex = lines.findIndex((line) => line.trim() === `## ${name}`);
  if (headingIndex === -1) return null;
  const next = lines.findIndex((line, index) => index > headingIndex && line.startsWith('## '));
  let bodyEnd = next === -1 ? lines.length : next;
  while (bodyEnd > headingIndex + 1 && (lines[bodyEnd - 1] ?? '').trim() === '') bodyEnd -= 1;
  return { bodyStart: headingIndex + 1, bodyEnd };
}

function trimTrailingBlankLines(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && (lines[end - 1] ?? '').trim() === '') end -= 1;
  return lines.slice(0, end);
}

function dropLeadingBlankLines(lines: readonly string[]): string[] {
  const first = lines.findIndex((line) => line.trim() !== '');
  return first === -1 ? [] : lines.slice(first);
}
