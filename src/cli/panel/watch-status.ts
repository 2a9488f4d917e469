import { setTimeout as delay } from 'node:timers/promises';
import type { CliContext } from '../cli-context.ts';
import { sanitizeForTerminal, truncate } from '../terminal-text.ts';
import { LiveRegion } from './live-region.ts';

/**
 * `loki status --watch`: on a terminal the status is redrawn in place every interval until
 * `signal` aborts (Ctrl-C), then left on the screen as plain output with the cursor shown. Without
 * a terminal each status that differs from the last is printed in full (a log of changes).
 */
export async function watchStatus(options: {
  context: CliContext;
  /** The status as text (it may hold model-written text: sanitised here). */
  read: () => Promise<string>;
  intervalSeconds: number;
  signal: AbortSignal;
}): Promise<void> {
  const { context, signal, intervalSeconds } = options;
  const terminal = context.terminal;
  const region = terminal === undefined ? null : new LiveRegion(context.stdout);
  let last: string | null = null;
  let frame: string[] = [];
  try {
    while (!signal.aborted) {
      const text = sanitizeForTerminal(await options.read());
      if (region !== null && terminal !== undefined) {
        const width = Math.max(20, terminal.columns() - 1);
        const lines = text.replace(/\n$/, '').split('\n');
        lines.push('', `Refreshing every ${intervalSeconds} s; Ctrl-C ends.`);
        frame = lines.slice(0, Math.max(1, terminal.rows() - 1)).map((line) => truncate(line, width));
        region.draw(frame);
      } else if (text !== last) {
        context.stdout(last === null ? text : `\n${text}`);
      }
      last = text;
      await delay(intervalSeconds * 1000, undefined, { signal }).catch((error: unknown) => {
        if (!signal.aborted) throw error;
      });
    }
  } finally {
    // The last frame stays, without the "Ctrl-C ends" line that no longer holds.
    region?.close(frame.slice(0, -2));
  }
}
