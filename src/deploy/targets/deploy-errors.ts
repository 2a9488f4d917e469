import { LokiError } from '../../errors/index.ts';

/** Stable codes of the container and cloud targets' errors. */
export const DeployErrorCode = {
  commandFailed: 'DEPLOY_COMMAND_FAILED',
  cliMissing: 'DEPLOY_CLI_MISSING',
  outputUnreadable: 'DEPLOY_OUTPUT_UNREADABLE',
  rolloutFailed: 'DEPLOY_ROLLOUT_FAILED',
  dockerfileMissing: 'DEPLOY_DOCKERFILE_MISSING',
  targetUnusable: 'DEPLOY_TARGET_UNUSABLE',
} as const;

/** The last lines of a (redacted) output: where CLIs say why they failed. */
export function outputTail(text: string, maxLines = 8): string {
  const lines = text.trim().split('\n');
  return lines.slice(-maxLines).join('\n');
}

export function commandFailedError(
  description: string,
  outcome: { exitCode: number | null; stderr: string; stdout: string; timedOut: boolean },
): LokiError {
  const how = outcome.timedOut ? 'timed out' : `exited with ${String(outcome.exitCode)}`;
  const said = outputTail(outcome.stderr) || outputTail(outcome.stdout) || '(no output)';
  return new LokiError(
    `${description} ${how}: ${said}. Fix the cause shown by the CLI (credentials, project settings) and deploy again.`,
    { code: DeployErrorCode.commandFailed, category: 'user', context: { exitCode: outcome.exitCode } },
  );
}

export function outputUnreadableError(description: string, expected: string): LokiError {
  return new LokiError(
    `${description} printed output Loki cannot read (expected ${expected}). Check that the CLI is an official, recent version.`,
    { code: DeployErrorCode.outputUnreadable, category: 'internal' },
  );
}

export function rolloutFailedError(description: string, detail: string): LokiError {
  return new LokiError(`${description}: ${detail}.`, {
    code: DeployErrorCode.rolloutFailed,
    category: 'user',
  });
}
