import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { writeFileAtomic } from '../workspace/index.ts';
import { commentSyntaxFor, formatComment } from './comment-syntax.ts';
import type { ReviewFinding } from './finding-schema.ts';

/** The marker each non-blocking severity leaves at its line. */
export const COMMENT_MARKERS = { Low: 'TODO(review)', Cosmetic: 'FIXME(nitpick)' } as const;
export type CommentedSeverity = keyof typeof COMMENT_MARKERS;

export interface AnnotationResult {
  /** Findings written as a comment above their line. */
  annotated: ReviewFinding[];
  /** Findings left in the events only: a file format without comments, or not a regular file. */
  skipped: { finding: ReviewFinding; reason: string }[];
}

/**
 * Writes each Low finding as `TODO(review): …` and each Cosmetic one as `FIXME(nitpick): …` on a
 * new line above its line, indented like it, in the comment syntax of the file's type. Files are
 * named by reviewers (agents): only regular files inside the worktree are written, never through a
 * symbolic link. Lines are counted in the file before any comment is added (findings of one file
 * are applied from the bottom up).
 */
export function annotateFindings(worktree: string, findings: readonly ReviewFinding[]): AnnotationResult {
  const result: AnnotationResult = { annotated: [], skipped: [] };
  const byFile = new Map<string, ReviewFinding[]>();
  for (const finding of findings) {
    if (finding.severity !== 'Low' && finding.severity !== 'Cosmetic') continue;
    byFile.set(finding.file, [...(byFile.get(finding.file) ?? []), finding]);
  }
  for (const [file, fileFindings] of byFile) {
    const syntax = commentSyntaxFor(file);
    const path = safeFilePath(worktree, file);
    const reason =
      path === null
        ? 'not a regular file in the worktree'
        : syntax === null
          ? 'the file type has no comments'
          : null;
    if (reason !== null || path === null || syntax === null) {
      for (const finding of fileFindings) result.skipped.push({ finding, reason: reason ?? '' });
      continue;
    }
    const lines = readFileSync(path, 'utf8').split('\n');
    const ordered = [...fileFindings].sort((left, right) => right.line - left.line);
    for (const finding of ordered) {
      const index = Math.min(finding.line, lines.length) - 1;
      const indent = /^\s*/.exec(lines[index] ?? '')?.[0] ?? '';
      const marker = COMMENT_MARKERS[finding.severity as CommentedSeverity];
      const fix = finding.suggestedFix === '' ? '' : ` Suggested fix: ${finding.suggestedFix}`;
      lines.splice(
        Math.max(index, 0),
        0,
        `${indent}${formatComment(syntax, `${marker}: ${finding.message}${fix}`)}`,
      );
    }
    // The file keeps its permissions (an executable script stays executable).
    writeFileAtomic(path, lines.join('\n'), { mode: lstatSync(path).mode & 0o777 });
    result.annotated.push(...ordered.reverse());
  }
  return result;
}

/** The file's absolute path when it is a regular file (no symbolic link) inside the worktree; else null. */
function safeFilePath(worktree: string, file: string): string | null {
  const path = join(worktree, file);
  const inside = relative(worktree, path);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..') return null;
  try {
    if (!lstatSync(path).isFile()) return null;
    const real = relative(realpathSync(worktree), realpathSync(path));
    return real.startsWith(`..${sep}`) || real === '..' ? null : path;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
