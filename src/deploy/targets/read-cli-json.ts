import { parseJsonOrNull } from '../../text/index.ts';
import { outputUnreadableError } from './deploy-errors.ts';

/** A CLI's JSON output, or DEPLOY_OUTPUT_UNREADABLE naming the command and what was expected. */
export function readCliJson(text: string, description: string, expected: string): unknown {
  const value = parseJsonOrNull(text.trim());
  if (value === null) throw outputUnreadableError(description, expected);
  return value;
}

/** The last http(s) URL in a text (CLIs print progress before the URL they were asked for). */
export function lastUrlIn(text: string): string | undefined {
  const matches = text.match(/https?:\/\/[^\s"'<>]+/g);
  return matches?.at(-1);
}
