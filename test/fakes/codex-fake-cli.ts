import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FakeCodexRun {
  /** Objects are printed as JSON lines, strings as they are (to script malformed output). */
  lines: unknown[];
  exitCode: number;
  stderr?: string;
  /** Files to write (relative to the working directory) before printing, as the real agent's edits. */
  writeFiles?: Record<string, string>;
  /** Start a grandchild in its own session whose command line carries this marker, then hang. */
  hangWithGrandchild?: string;
}

export interface FakeCodexInvocation {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface FakeCodex extends AsyncDisposable {
  /** A `codex` executable: one scripted run per invocation, in order. */
  readonly executablePath: string;
  invocations(): Promise<FakeCodexInvocation[]>;
}

const FAKE_EXECUTABLE = fileURLToPath(new URL('./codex-fake-executable.ts', import.meta.url));

/**
 * Writes a fake `codex` into a temporary directory. It finds its script through an environment
 * variable baked into the wrapper, so the runtime under test may pass any environment it likes.
 */
export async function createFakeCodex(runs: FakeCodexRun[]): Promise<FakeCodex> {
  const directory = await mkdtemp(join(tmpdir(), 'loki-fake-codex-'));
  const scriptPath = join(directory, 'script.json');
  await writeFile(scriptPath, JSON.stringify({ runs }));
  const executablePath = join(directory, 'codex');
  await writeFile(
    executablePath,
    `#!/bin/sh\nLOKI_FAKE_CODEX_SCRIPT=${shellQuote(scriptPath)} exec ${shellQuote(process.execPath)} ${shellQuote(FAKE_EXECUTABLE)} "$@"\n`,
  );
  await chmod(executablePath, 0o755);
  return {
    executablePath,
    invocations: async () => {
      const text = await readFile(`${scriptPath}.invocations.jsonl`, 'utf8').catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
        throw error;
      });
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as FakeCodexInvocation);
    },
    [Symbol.asyncDispose]: () => rm(directory, { recursive: true, force: true }),
  };
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
