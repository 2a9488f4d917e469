export type JsonLineParse = { isValid: true; value: unknown } | { isValid: false; reason: string };

/** Parses one line of a CLI's JSON stream without throwing: a bad line is reported, not fatal. */
export function parseJsonLine(line: string): JsonLineParse {
  try {
    return { isValid: true, value: JSON.parse(line) };
  } catch (error) {
    if (error instanceof SyntaxError) return { isValid: false, reason: error.message };
    throw error;
  }
}
