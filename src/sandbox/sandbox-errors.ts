import { LokiError } from '../errors/index.ts';

/** Stable codes for errors raised by the sandbox. */
export const SandboxErrorCode = {
  commandDenied: 'SANDBOX_COMMAND_DENIED',
  spawnFailed: 'SANDBOX_SPAWN_FAILED',
  processSurvived: 'SANDBOX_PROCESS_SURVIVED',
  invalidRequest: 'SANDBOX_INVALID_REQUEST',
  policyInvalid: 'SANDBOX_POLICY_INVALID',
  proxyFailed: 'SANDBOX_PROXY_FAILED',
} as const;

export function spawnFailedError(executable: string, cause: unknown): LokiError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new LokiError(`Could not start ${executable}: ${reason}. Check that it is installed and on PATH.`, {
    code: SandboxErrorCode.spawnFailed,
    category: 'internal',
    context: { executable },
    cause,
  });
}

export function processSurvivedError(pids: readonly number[]): LokiError {
  return new LokiError(
    `Processes ${pids.join(', ')} survived SIGKILL (stuck in the kernel?). Inspect them with ps and end them by hand.`,
    { code: SandboxErrorCode.processSurvived, category: 'internal', context: { pids } },
  );
}

export function invalidRequestError(message: string, context: Record<string, unknown>): LokiError {
  return new LokiError(message, { code: SandboxErrorCode.invalidRequest, category: 'internal', context });
}
