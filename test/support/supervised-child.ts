import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A Node script run as a child process in its own process group, with its stdout collected line by
 * line. Tests wait on those lines (events), never on sleeps.
 */
export class SupervisedChild {
  readonly name: string;
  readonly lines: string[] = [];
  /** Settles once the process has exited AND every line it wrote has been collected. */
  readonly exited: Promise<ChildExit>;
  readonly #process: ChildProcess;
  readonly #lineEvents = new EventEmitter();
  /** Lines counted by their first word, so that a condition checked on every line stays O(1). */
  readonly #countsByFirstWord = new Map<string, number>();
  #standardError = '';
  #exit: ChildExit | null = null;

  constructor(
    name: string,
    scriptPath: string,
    scriptArguments: readonly string[],
    options: { stdin: 'pipe' | 'ignore' },
  ) {
    this.name = name;
    // detached: the child leads its own process group, so a kill reaches anything it spawned too.
    this.#process = spawn(process.execPath, [scriptPath, ...scriptArguments], {
      detached: true,
      stdio: [options.stdin, 'pipe', 'pipe'],
    });
    const { stdout, stderr } = this.#process;
    if (stdout === null || stderr === null) throw new Error(`${name}: spawn gave no stdout/stderr pipe`);
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => {
      this.#standardError += chunk;
    });
    const lineReader = createInterface({ input: stdout });
    lineReader.on('line', (line) => {
      this.lines.push(line);
      const firstWord = line.split(' ', 1)[0] ?? '';
      this.#countsByFirstWord.set(firstWord, (this.#countsByFirstWord.get(firstWord) ?? 0) + 1);
      this.#lineEvents.emit('line', line);
    });
    const linesDone = new Promise<void>((resolve) => lineReader.once('close', resolve));
    const processDone = new Promise<ChildExit>((resolve, reject) => {
      this.#process.once('error', reject);
      this.#process.once('close', (code, signal) => resolve({ code, signal }));
    });
    this.exited = Promise.all([processDone, linesDone]).then(([exit]) => {
      this.#exit = exit;
      this.#lineEvents.emit('exit', exit);
      return exit;
    });
  }

  get pid(): number {
    const pid = this.#process.pid;
    if (pid === undefined) throw new Error(`${this.name}: process has no pid (spawn failed)`);
    return pid;
  }

  /** How many lines so far start with `word` followed by a space or the end of the line. */
  countLines(word: string): number {
    return this.#countsByFirstWord.get(word) ?? 0;
  }

  get standardError(): string {
    return this.#standardError;
  }

  get hasExited(): boolean {
    return this.#exit !== null;
  }

  onLine(listener: (line: string) => void): () => void {
    this.#lineEvents.on('line', listener);
    return () => this.#lineEvents.off('line', listener);
  }

  onExit(listener: (exit: ChildExit) => void): () => void {
    this.#lineEvents.on('exit', listener);
    return () => this.#lineEvents.off('exit', listener);
  }

  writeLine(line: string): void {
    const stdin = this.#process.stdin;
    if (stdin === null) throw new Error(`${this.name}: was started without a stdin pipe`);
    stdin.write(`${line}\n`);
  }

  /** SIGKILLs the whole process group (unless already gone) and waits until it is reaped. */
  async kill(): Promise<ChildExit> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch (error) {
        // ESRCH: the group exited between the check and the kill; anything else is a real problem.
        if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
      }
    }
    return this.exited;
  }

  describe(): string {
    const exit =
      this.#exit === null ? 'running' : `exit code ${this.#exit.code}, signal ${this.#exit.signal}`;
    return `${this.name} (${exit}; ${this.lines.length} stdout lines; stderr: ${this.#standardError.trim() || '(empty)'})`;
  }
}

/** Every child a test file started, so that afterEach can kill them all even when a test failed. */
export class ChildProcessRegistry {
  readonly #children = new Set<SupervisedChild>();

  start(
    name: string,
    scriptPath: string,
    scriptArguments: readonly string[],
    options: { stdin: 'pipe' | 'ignore' } = { stdin: 'ignore' },
  ): SupervisedChild {
    const child = new SupervisedChild(name, scriptPath, scriptArguments, options);
    this.#children.add(child);
    return child;
  }

  async killAll(): Promise<void> {
    const children = [...this.#children];
    this.#children.clear();
    await Promise.all(children.map((child) => child.kill()));
  }
}

/**
 * Resolves once `condition()` holds, re-checking on every line any of the children prints. Rejects
 * if a child exits first or the deadline passes, with what each child has said so far.
 */
export async function waitForOutput(
  children: readonly SupervisedChild[],
  condition: () => boolean,
  options: { description: string; timeoutMilliseconds: number },
): Promise<void> {
  if (condition()) return;
  const unsubscribers: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const failWith = (reason: string) => {
        const report = children.map((child) => child.describe()).join('\n  ');
        reject(new Error(`while waiting for ${options.description}: ${reason}\n  ${report}`));
      };
      for (const child of children) {
        unsubscribers.push(
          child.onLine(() => {
            if (condition()) resolve();
          }),
          child.onExit(() => failWith(`${child.name} exited`)),
        );
        if (child.hasExited) failWith(`${child.name} had already exited`);
      }
      timer = setTimeout(
        () => failWith(`no success within ${options.timeoutMilliseconds} ms`),
        options.timeoutMilliseconds,
      );
    });
  } finally {
    clearTimeout(timer);
    for (const unsubscribe of unsubscribers) unsubscribe();
  }
}
