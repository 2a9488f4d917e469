import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { isLokiError, usageError } from '../../errors/index.ts';
import { parseJsonOrNull } from '../../text/index.ts';

/**
 * A LokiError becomes its code and message as JSON (the page shows the message as it is: it says
 * what to do next); the HTTP status says whose problem it is. Anything else is a defect: it is
 * written to stderr with its stack and the page gets a 500 that says where to look.
 */
export function errorResponse(context: Context, error: unknown): Response {
  if (!isLokiError(error)) {
    process.stderr.write(
      `loki: dashboard: internal error on ${context.req.method} ${context.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return context.json(
      { error: { code: 'DASHBOARD_INTERNAL_ERROR', message: 'internal error; see the terminal of loki' } },
      500,
    );
  }
  return context.json(
    { error: { code: error.code, message: error.message } },
    statusOf(error.code, error.category),
  );
}

function statusOf(code: string, category: string): ContentfulStatusCode {
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.startsWith('RUN_') || code.startsWith('TASK_')) return 409;
  return category === 'user' ? 400 : 500;
}

/** The JSON body of a control, validated: a malformed one is DASHBOARD_INVALID_REQUEST (400). */
export async function parseBody<Schema extends z.ZodType>(
  context: Context,
  schema: Schema,
): Promise<z.infer<Schema>> {
  const parsed = schema.safeParse(parseJsonOrNull(await context.req.text()));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw usageError(
      'DASHBOARD_INVALID_REQUEST',
      `the request's body is not valid: ${issue === undefined ? 'not JSON' : `${issue.path.join('.') || 'body'}: ${issue.message}`}`,
    );
  }
  return parsed.data;
}
