/** One shell command for the RARV verification: every command, in order, stopping at the first failure. */
export function joinVerifyCommands(commands: readonly string[]): string | null {
  if (commands.length === 0) return null;
  if (commands.length === 1) return commands[0] ?? null;
  return commands.map((command) => `( ${command} )`).join(' && ');
}
