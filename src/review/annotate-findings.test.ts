import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { annotateFindings } from './annotate-findings.ts';
import { commentSyntaxFor } from './comment-syntax.ts';
import type { ReviewFinding } from './finding-schema.ts';
import { validateReviewSubmission } from './finding-schema.ts';

const finding = (overrides: Partial<ReviewFinding>): ReviewFinding => ({
  severity: 'Low',
  file: 'app.py',
  line: 1,
  message: 'a note',
  suggestedFix: 'a fix',
  ...overrides,
});

describe('annotateFindings', () => {
  let root: string;
  let worktree: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'loki-annotate-'));
    worktree = join(root, 'worktree');
    mkdirSync(worktree);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("writes each comment above its line, indented like it, in the file type's syntax", () => {
    writeFileSync(join(worktree, 'app.py'), 'def f():\n    return 1\n');
    writeFileSync(join(worktree, 'page.html'), '<main>\n  <p>hi</p>\n</main>\n');
    writeFileSync(join(worktree, 'run.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(join(worktree, 'run.sh'), 0o755);

    const result = annotateFindings(worktree, [
      finding({ line: 2, message: 'magic number' }),
      finding({ severity: 'Cosmetic', line: 1, message: 'name f better' }),
      finding({ file: 'page.html', line: 2, severity: 'Cosmetic', message: 'a --> b' }),
      finding({ file: 'run.sh', line: 2, message: 'quote it' }),
      finding({ severity: 'Critical', line: 2, message: 'never written' }),
    ]);

    expect(result.skipped).toEqual([]);
    expect(result.annotated).toHaveLength(4);
    expect(readFileSync(join(worktree, 'app.py'), 'utf8')).toBe(
      '# FIXME(nitpick): name f better Suggested fix: a fix\ndef f():\n    # TODO(review): magic number Suggested fix: a fix\n    return 1\n',
    );
    // A block comment's closing marker in the text cannot end the comment early.
    expect(readFileSync(join(worktree, 'page.html'), 'utf8')).toBe(
      '<main>\n  <!-- FIXME(nitpick): a   b Suggested fix: a fix -->\n  <p>hi</p>\n</main>\n',
    );
    // The script stays executable.
    expect(statSync(join(worktree, 'run.sh')).mode & 0o777).toBe(0o755);
  });

  it('leaves files without comments, and anything that is not a regular file inside the worktree, untouched', () => {
    writeFileSync(join(worktree, 'data.json'), '{}\n');
    writeFileSync(join(root, 'outside.ts'), 'export {};\n');
    symlinkSync(join(root, 'outside.ts'), join(worktree, 'link.ts'));

    const result = annotateFindings(worktree, [
      finding({ file: 'data.json' }),
      finding({ file: 'link.ts' }),
      finding({ file: '../outside.ts' }),
    ]);

    expect(result.annotated).toEqual([]);
    expect(result.skipped.map((skipped) => [skipped.finding.file, skipped.reason])).toEqual([
      ['data.json', 'the file type has no comments'],
      ['link.ts', 'not a regular file in the worktree'],
      ['../outside.ts', 'not a regular file in the worktree'],
    ]);
    expect(readFileSync(join(root, 'outside.ts'), 'utf8')).toBe('export {};\n');
    expect(readFileSync(join(worktree, 'data.json'), 'utf8')).toBe('{}\n');
  });

  it('knows the comment syntax of common file types by extension or name', () => {
    expect(commentSyntaxFor('src/a.tsx')?.open).toBe('//');
    expect(commentSyntaxFor('Dockerfile')?.open).toBe('#');
    expect(commentSyntaxFor('db/001.sql')?.open).toBe('--');
    expect(commentSyntaxFor('style.css')).toEqual({ open: '/*', close: '*/' });
    expect(commentSyntaxFor('package-lock.json')).toBeNull();
  });
});

describe('validateReviewSubmission', () => {
  const files = new Map([['src/a.ts', 10]]);

  it('accepts findings on the files of the change and an empty approval', () => {
    expect(validateReviewSubmission({ summary: 'ok', findings: [] }, files).ok).toBe(true);
    expect(
      validateReviewSubmission(
        { summary: 'one', findings: [finding({ file: 'src/a.ts', line: 10 })] },
        files,
      ),
    ).toMatchObject({ ok: true });
  });

  it('names each problem so the reviewer can repair its submission', () => {
    expect(
      validateReviewSubmission(
        {
          summary: 'bad',
          findings: [
            finding({ file: 'src/b.ts' }),
            finding({ file: 'src/a.ts', line: 11 }),
            { ...finding({}), severity: 'Blocker' },
          ],
        },
        files,
      ),
    ).toEqual({
      ok: false,
      errors: ['findings[2].severity: expected one of Critical, High, Medium, Low, Cosmetic'],
    });
    expect(
      validateReviewSubmission(
        {
          summary: 'bad',
          findings: [finding({ file: 'src/b.ts' }), finding({ file: 'src/a.ts', line: 11 })],
        },
        files,
      ),
    ).toEqual({
      ok: false,
      errors: [
        'findings[0].file: "src/b.ts" is not a file the change leaves in place (files: src/a.ts)',
        'findings[1].line: src/a.ts has 10 lines; line 11 does not exist',
      ],
    });
  });
});
