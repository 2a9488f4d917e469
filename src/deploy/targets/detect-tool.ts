import type { CliRunner } from './cli-runner.ts';
import type { TargetDetection } from './cloud-target.ts';

/** A credential: whether it is present (never its value) and what to do when it is not. */
export interface CredentialCheck {
  isPresent: boolean;
  /** Names where it was found ("VERCEL_TOKEN") when present; how to provide it otherwise. */
  description: string;
}

/** The first of `executables` on PATH, or undefined. */
export function firstOnPath(runner: CliRunner, executables: readonly string[]): string | undefined {
  return executables.find((executable) => runner.isOnPath(executable));
}

/**
 * Usable = the CLI on PATH and its credential present. The reason names what is missing and the fix,
 * so `loki doctor` and `loki deploy targets` can print it as is.
 */
export async function detectTool(
  runner: CliRunner,
  tool: { executables: readonly string[]; install: string },
  credential: () => CredentialCheck | Promise<CredentialCheck>,
): Promise<TargetDetection> {
  const executable = firstOnPath(runner, tool.executables);
  if (executable === undefined) {
    return {
      usable: false,
      reason: `${tool.executables.join(' or ')} not on PATH (install: ${tool.install})`,
    };
  }
  const check = await credential();
  if (!check.isPresent) return { usable: false, reason: `${executable} found; ${check.description}` };
  return { usable: true, reason: `${executable} on PATH; credentials: ${check.description}` };
}

/** A non-empty environment variable; reports presence only. */
export function environmentCredential(
  env: Readonly<Record<string, string | undefined>>,
  variable: string,
  fix: string,
): CredentialCheck {
  const value = env[variable];
  if (value === undefined || value.trim() === '') {
    return { isPresent: false, description: `${variable} is not set (${fix})` };
  }
  return { isPresent: true, description: variable };
}
