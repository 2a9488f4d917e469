import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BubblewrapRunner } from './bubblewrap-runner.ts';
import type { CommandRunner } from './command-runner.ts';
import { findExecutable } from './find-executable.ts';
import { PlainRunner } from './plain-runner.ts';
import type { ProcessTiming } from './run-process-group.ts';
import { SandboxErrorCode } from './sandbox-errors.ts';
import type { SandboxNetworkAccess } from './sandbox-network.ts';
import { isLokiError } from '../errors/index.ts';

export interface CommandRunnerDetection {
  runner: CommandRunner;
  /** One sentence for `loki doctor`: why this runner, and how to get isolation if it is missing. */
  reason: string;
}

export interface DetectCommandRunnerOptions {
  /** Where PATH (to find bwrap) and HOME (credential files to mask) are read; injected for tests. */
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  timing?: ProcessTiming;
  trialTimeoutMilliseconds?: number;
  /** What commands that may use the network get (see SandboxNetwork); default: the host's network. */
  network?: SandboxNetworkAccess;
}

const TRIAL_MARKER = 'loki-sandbox-trial-ok';
const INSTALL_HINT = 'install bubblewrap (apt-get install bubblewrap) to isolate agent commands';

/**
 * Picks bubblewrap when `bwrap` is on PATH and a trial run with the real flags succeeds (inside
 * some containers user namespaces or mounts are forbidden and bwrap fails at once); else plain.
 */
export async function detectCommandRunner(
  options: DetectCommandRunnerOptions,
): Promise<CommandRunnerDetection> {
  const plainRunner = new PlainRunner(options.timing === undefined ? {} : { timing: options.timing });
  const bubblewrapPath = findExecutable('bwrap', options.env.PATH);
  if (bubblewrapPath === undefined) {
    return {
      runner: plainRunner,
      reason: `bwrap is not on PATH; commands run without isolation — ${INSTALL_HINT}.`,
    };
  }
  const runner = new BubblewrapRunner({
    bubblewrapPath,
    ...(options.env.HOME === undefined ? {} : { homeDirectory: options.env.HOME }),
    ...(options.timing === undefined ? {} : { timing: options.timing }),
    ...(options.network === undefined ? {} : { network: options.network }),
  });
  const trialDirectory = await mkdtemp(join(tmpdir(), 'loki-sandbox-trial-'));
  try {
    const result = await runner
      .run({
        command: `echo ${TRIAL_MARKER} > trial.txt && cat trial.txt`,
        cwd: trialDirectory,
        writableDirectory: trialDirectory,
        timeoutMilliseconds: options.trialTimeoutMilliseconds ?? 10_000,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
        allowNetwork: false,
        maxOutputBytes: 4_096,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
      .catch((error: unknown) => {
        // bwrap is there but cannot even be started (wrong architecture, noexec mount): use plain.
        if (isLokiError(error) && error.code === SandboxErrorCode.spawnFailed) return error;
        throw error;
      });
    if (result instanceof Error) {
      return {
        runner: plainRunner,
        reason: `bwrap at ${bubblewrapPath} could not be started (${result.message}); commands run without isolation.`,
      };
    }
    if (result.exitCode === 0 && result.stdout.trim() === TRIAL_MARKER) {
      return { runner, reason: `bubblewrap at ${bubblewrapPath} works: commands run isolated.` };
    }
    const failure = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] ?? '';
    return {
      runner: plainRunner,
      reason: `bwrap at ${bubblewrapPath} failed a trial run (exit ${String(result.exitCode)}: ${failure}); commands run without isolation — allow unprivileged user namespaces or run Loki outside this container to isolate them.`,
    };
  } finally {
    await rm(trialDirectory, { recursive: true, force: true });
  }
}
