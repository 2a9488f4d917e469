/** The `code` of a Node system error (ENOENT, EISDIR...), if it is one. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}
