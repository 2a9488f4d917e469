import type { CommandResult } from '../sandbox/index.ts';

/** The text the model sees for a finished command: how it ended, then each stream that said something. */
export function formatCommandResult(result: CommandResult): string {
  const ending =
    result.exitCode !== null
      ? `exit code ${result.exitCode}`
      : `killed by ${result.signal ?? 'an unknown signal'}`;
  const sections = [`${ending} (${result.durationMilliseconds} ms)`];
  if (result.stdout !== '') sections.push(`[stdout]\n${result.stdout}`);
  if (result.stderr !== '') sections.push(`[stderr]\n${result.stderr}`);
  if (result.stdout === '' && result.stderr === '') sections.push('(no output)');
  if (result.truncated)
    sections.push('(output was cut in the middle; redirect it to a file and grep it for details)');
  return sections.join('\n');
}
