/** Shortens text kept in events and error messages; the CLI's own logs keep the full text. */
export function truncateText(text: string, maximumCharacters: number): string {
  if (text.length <= maximumCharacters) return text;
  return `${text.slice(0, maximumCharacters)}… [${text.length - maximumCharacters} more characters]`;
}

/** A CLI's own words, on one line and short enough to quote inside an error message. */
export function quoteForMessage(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (oneLine === '') return 'no details';
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine;
}
