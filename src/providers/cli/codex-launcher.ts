import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../../sandbox/index.ts';
import type { ProcessInvocation } from './cli-runtime-options.ts';

/**
 * A program the Codex SDK can be pointed at (`codexPathOverride`) that starts Codex the way Loki
 * wants: the SDK only spawns one path with its own arguments, so the wrapping (bubblewrap around
 * Codex) has to live in an executable file. It is a shell script in a private folder, readable
 * only by Loki's user, that execs the wrapped command line with the SDK's arguments appended.
 */
export class CodexLauncher implements AsyncDisposable {
  readonly path: string;
  readonly #directory: string;

  private constructor(directory: string, path: string) {
    this.#directory = directory;
    this.path = path;
  }

  /**
   * `executable` is the codex to run; undefined runs the one that `@openai/codex` ships through its
   * own entry point (which finds the platform binary and its helper folder, as the SDK does).
   */
  static async write(
    executable: string | undefined,
    wrap: (invocation: ProcessInvocation) => ProcessInvocation,
    options: { afterSubcommand?: readonly string[] } = {},
  ): Promise<CodexLauncher> {
    const wrapped = wrap(executable === undefined ? bundledCodex() : { executable, arguments: [] });
    const directory = await mkdtemp(join(tmpdir(), 'loki-codex-launcher-'));
    const path = join(directory, 'codex');
    // The wrapped command line ends with the program, so the SDK's arguments go after it; flags
    // of the SDK's subcommand (`exec`) go right after that first argument.
    const commandLine = [wrapped.executable, ...wrapped.arguments].map(shellQuote).join(' ');
    const extra = (options.afterSubcommand ?? []).map(shellQuote).join(' ');
    const script =
      extra === ''
        ? `#!/bin/sh\nexec ${commandLine} "$@"\n`
        : `#!/bin/sh\nsubcommand="$1"\nshift\nexec ${commandLine} "$subcommand" ${extra} "$@"\n`;
    await writeFile(path, script, { mode: 0o700 });
    return new CodexLauncher(directory, path);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await rm(this.#directory, { recursive: true, force: true });
  }
}

/** `node …/@openai/codex/bin/codex.js`: the CLI's own launcher, resolved from Loki's install. */
function bundledCodex(): ProcessInvocation {
  const require = createRequire(import.meta.url);
  return { executable: process.execPath, arguments: [require.resolve('@openai/codex/bin/codex.js')] };
}
