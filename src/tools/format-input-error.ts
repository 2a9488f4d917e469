import type { z } from 'zod';

/**
 * Turns a zod error into text a model can act on: which field, what was wrong, and a reminder of
 * the fields the tool takes. Returned as a tool result, never thrown: the model fixes its call.
 */
export function formatInputError(
  toolName: string,
  error: z.ZodError,
  expectedFields: readonly string[],
): string {
  const lines = error.issues.map((issue) => {
    const field = issue.path.length === 0 ? '(input)' : issue.path.map(String).join('.');
    return `- ${field}: ${issue.message}`;
  });
  const fields = expectedFields.length === 0 ? 'no fields' : expectedFields.join(', ');
  return [
    `Invalid input for ${toolName}:`,
    ...lines,
    `${toolName} takes: ${fields}. Fix the input and call ${toolName} again.`,
  ].join('\n');
}
