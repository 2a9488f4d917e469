/**
 * Text that may come from a model or another user (task titles, errors) is stripped of control
 * characters before it reaches a terminal, so it cannot move the cursor, recolour or retitle it.
 */
export function sanitizeForTerminal(text: string): string {
  // C0 controls except tab and newline, DEL, and C1 controls (which include CSI).
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '�');
}

/** One line per row, columns padded to the widest cell; the last column is not padded. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const cleanRows = rows.map((row) => row.map((cell) => sanitizeForTerminal(cell).replace(/\s+/g, ' ')));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cleanRows.map((row) => (row[column] ?? '').length)),
  );
  const formatRow = (row: readonly string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[formatRow(header), ...cleanRows.map(formatRow)].join('\n')}\n`;
}

export function truncate(text: string, maximumLength: number): string {
  return text.length <= maximumLength ? text : `${text.slice(0, maximumLength - 1)}…`;
}

/** "config.ts (the value of ANTHROPIC_API_KEY); .env (a GitHub token)", at most a few files. */
export function describeSecretFiles(files: readonly { path: string; secrets: readonly string[] }[]): string {
  const shown = files.slice(0, 3).map((file) => `${truncate(file.path, 80)} (${file.secrets.join(', ')})`);
  return files.length > 3 ? `${shown.join('; ')}; and ${files.length - 3} more` : shown.join('; ');
}
