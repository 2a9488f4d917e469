/** The `code` of a Node system error (ENOENT, EISDIR...) or of any error object carrying a string code. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
