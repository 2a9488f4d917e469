/**
 * JSON.parse that answers null for text that is not JSON, for files that are validated right after
 * (a zod schema then says what is wrong); a syntax error is not worth more than "not valid".
 */
export function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: the caller's schema rejects null with its own message.
    return null;
  }
}
