import type { Clock } from '../clock/index.ts';

/** stdout is a terminal: its size, read when a frame is drawn (it may be resized). */
export interface TerminalInfo {
  columns(): number;
  rows(): number;
}

/**
 * What a command needs from the outside world. Injected so that commands can be run in-process by
 * tests with a fake environment, a temp working directory and captured output.
 */
export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Set when stdout is a terminal (live panels redraw in place); absent: plain lines. */
  terminal?: TerminalInfo;
  /** Set by a command that wants a non-zero exit without throwing (e.g. `loki doctor` found a problem). */
  exitCode: number;
}

/** Writes a value as pretty JSON followed by a newline. */
export function writeJson(context: CliContext, value: unknown): void {
  context.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
