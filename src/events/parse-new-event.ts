import type { z } from 'zod';
import { LokiError } from '../errors/index.ts';
import { newEventSchema } from './event-schemas.ts';
import type { NewEvent } from './event-types.ts';

/** How many problems an EVENT_INVALID message lists: enough to fix the emitter, short enough to read. */
const MAX_LISTED_ISSUES = 3;

/**
 * Checks that `value` is an event of the union (event-types.ts) and returns it typed. The store
 * calls it on every append, so whatever is in the log matches the union its readers are typed by;
 * an edge that receives events from elsewhere (a remote worker, an HTTP body) calls it too.
 * Throws EVENT_INVALID, naming the event type and the offending field.
 */
export function parseNewEvent(value: unknown): NewEvent {
  const parsed = newEventSchema.safeParse(value);
  // The schemas mirror EventDataByType field for field (see EventSchemasMatchTheirTypes), so what
  // passes is a NewEvent; TypeScript cannot follow the union built from a record to say so.
  if (parsed.success) return parsed.data as NewEvent;
  throw eventInvalid(value, parsed.error.issues);
}

/** A would-be event that is not one: a bug in whatever emitted it, never the user's input. */
export function eventInvalid(value: unknown, issues: readonly z.core.$ZodIssue[]): LokiError {
  const eventType = typeOf(value);
  const problems = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => {
    const path = issue.path.map(String).join('.');
    return `${path === '' ? '(the event itself)' : path}: ${issue.message}`;
  });
  const field = issues[0]?.path.map(String).join('.') ?? '';
  return new LokiError(
    `refused to record a "${eventType}" event: ${problems.join('; ')}. Nothing was written. The code that emitted it does not match the event definitions in src/events/; please report this message as a bug`,
    {
      code: 'EVENT_INVALID',
      category: 'internal',
      context: { eventType, field, problems },
    },
  );
}

function typeOf(value: unknown): string {
  if (typeof value !== 'object' || value === null || !('type' in value)) return '(no type)';
  return typeof value.type === 'string' ? value.type : String(value.type);
}
