import type { z } from 'zod';

/**
 * Turns zod issues into lines a model can act on: where (`requirements[2].title`) and what was
 * wrong. The same shape is used for the cross-field checks, so a model reads one kind of error.
 */
export function formatValidationIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`);
}

export function formatIssuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}
