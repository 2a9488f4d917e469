import { LokiError } from '../../errors/index.ts';
// By their own files: the sandbox's barrel also loads its network proxy (node:http), which
// `loki rollback` on the local target, through this module, never uses.
import { findExecutable } from '../../sandbox/find-executable.ts';
import { createRedactor } from '../../sandbox/redactor.ts';
import { DEFAULT_PROCESS_TIMING, runProcessGroup } from '../../sandbox/run-process-group.ts';
import { commandFailedError, DeployErrorCode } from './deploy-errors.ts';

/**
 * One invocation of a deploy CLI. Arguments are an array handed to the executable as they are:
 * no shell ever parses them, so a value from configuration or from a model cannot become a second
 * command.
 */
export interface CliInvocation {
  executable: string;
  args: readonly string[];
  /** Absolute. */
  cwd: string;
  timeoutMilliseconds?: number;
  signal?: AbortSignal;
}

export interface CliOutcome {
  exitCode: number | null;
  /** Redacted. */
  stdout: string;
  /** Redacted. */
  stderr: string;
  timedOut: boolean;
}

/** Injected into every target so tests decide which executables exist (a fake CLI on PATH). */
export interface CliRunner {
  /** The environment the CLIs see: PATH decides which executable runs, credentials come from here. */
  readonly env: Readonly<Record<string, string | undefined>>;
  isOnPath(executable: string): boolean;
  run(invocation: CliInvocation): Promise<CliOutcome>;
}

export interface CreateCliRunnerOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Values to redact besides the secret-looking environment variables (e.g. a token read from a file). */
  extraSecrets?: readonly string[];
  maxOutputBytes?: number;
}

const DEFAULT_TIMEOUT_MILLISECONDS = 15 * 60_000;

/**
 * Runs CLIs in their own process group (nothing they start survives the call) with output
 * redacted: the credentials of the environment are secret-named (VERCEL_TOKEN, FLY_API_TOKEN, ...)
 * and the redactor replaces their values wherever a CLI echoes them.
 */
export function createCliRunner(options: CreateCliRunnerOptions): CliRunner {
  const env = options.env;
  const definedEnv = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const redactor = createRedactor({ env, extraSecrets: options.extraSecrets ?? [] });
  return {
    env,
    isOnPath: (executable) => findExecutable(executable, env.PATH) !== undefined,
    run: async (invocation) => {
      const executablePath = findExecutable(invocation.executable, env.PATH);
      if (executablePath === undefined) throw cliMissingError(invocation.executable);
      const result = await runProcessGroup(
        { executable: executablePath, arguments: invocation.args, launchDirectory: invocation.cwd },
        {
          // Only a label for the runner's errors: runProcessGroup executes `executable` with
          // `arguments`, never this text.
          command: invocation.executable,
          cwd: invocation.cwd,
          writableDirectory: invocation.cwd,
          timeoutMilliseconds: invocation.timeoutMilliseconds ?? DEFAULT_TIMEOUT_MILLISECONDS,
          env: definedEnv,
          allowNetwork: true,
          maxOutputBytes: options.maxOutputBytes ?? 1_000_000,
          redactor,
          ...(invocation.signal === undefined ? {} : { signal: invocation.signal }),
        },
        DEFAULT_PROCESS_TIMING,
      );
      return {
        exitCode: result.exitCode,
        stdout: result.stdout,
        stderr: result.stderr,
        timedOut: result.timedOut,
      };
    },
  };
}

/** Runs and throws DEPLOY_COMMAND_FAILED (with the CLI's own last lines) unless it exits 0. */
export async function runOrThrow(
  runner: CliRunner,
  invocation: CliInvocation,
  description: string,
): Promise<CliOutcome> {
  const outcome = await runner.run(invocation);
  if (outcome.exitCode !== 0 || outcome.timedOut) throw commandFailedError(description, outcome);
  return outcome;
}

function cliMissingError(executable: string): LokiError {
  return new LokiError(
    `${executable} is not on PATH. Install the official ${executable} CLI, or choose another target in .loki/config/deploy.yaml.`,
    { code: DeployErrorCode.cliMissing, category: 'user', context: { executable } },
  );
}
