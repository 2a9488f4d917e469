/** Quotes one argument for /bin/sh: everything inside single quotes is literal. */
export function shellQuote(argument: string): string {
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}
