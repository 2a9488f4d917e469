export const DEFAULT_MAX_OUTPUT_CHARACTERS = 30_000;

/**
 * Cuts text longer than `maxCharacters` to its head and tail around a note that names where the
 * full text is. The head usually says what happened, the tail how it ended (errors, summaries).
 */
export function truncateToolOutput(text: string, maxCharacters: number, fullOutputPath: string): string {
  if (text.length <= maxCharacters) return text;
  const headLength = Math.floor(maxCharacters * 0.6);
  const tailLength = maxCharacters - headLength;
  const omitted = text.length - headLength - tailLength;
  return (
    `${text.slice(0, headLength)}\n\n` +
    `[... ${omitted} characters omitted; the full output (${text.length} characters) is in ${fullOutputPath} ...]\n\n` +
    text.slice(text.length - tailLength)
  );
}
