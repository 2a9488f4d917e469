import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPOSITORY_ROOT, type TempWorkspace } from './cli-harness.ts';

export interface TerminalSession {
  /** Types into the terminal (e.g. '\x03' for Ctrl-C: the terminal turns it into SIGINT). */
  type(text: string): void;
  /** Resolves when the terminal's output matches; fails with the output after the deadline. */
  waitForOutput(pattern: RegExp, timeoutMilliseconds?: number): Promise<void>;
  done: Promise<{ exitCode: number; output: string }>;
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * The real `loki` in a pseudo-terminal of the given size: util-linux `script` owns the terminal
 * (no native module needed) and copies everything the program drew to its stdout, escape sequences
 * included, and what is typed on its stdin to the terminal.
 */
export function startInTerminal(
  workspace: TempWorkspace,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; columns?: number; rows?: number } = {},
): TerminalSession {
  const command =
    `stty cols ${options.columns ?? 100} rows ${options.rows ?? 30} && exec ` +
    [process.execPath, join(REPOSITORY_ROOT, 'bin', 'loki.js'), ...args].map(quote).join(' ');
  const child = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
    cwd: workspace.root,
    env: { TERM: 'xterm-256color', ...workspace.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const done = new Promise<{ exitCode: number; output: string }>((resolve) => {
    child.on('close', (code) => resolve({ exitCode: code ?? -1, output }));
  });
  return {
    type: (text) => child.stdin.write(text),
    done,
    waitForOutput: (pattern, timeoutMilliseconds = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no terminal output matching ${String(pattern)}:\n${JSON.stringify(output)}`));
        }, timeoutMilliseconds);
        listeners.add(check);
        check();
      }),
  };
}
