import type { DoctorCheck } from './run-doctor.ts';

/** The network policy as configured, or why the configuration could not be read. */
export type SandboxNetworkPolicy =
  | { mode: 'none' | 'registries' | 'full'; allowedHosts: readonly string[]; source: string }
  | { error: string };

/**
 * What agents' commands and agent CLIs may reach, and whether it is enforced: only bubblewrap
 * takes the network away; the plain runner leaves every command on the host's network.
 */
export function sandboxNetworkCheck(
  policy: SandboxNetworkPolicy,
  runnerKind: 'bubblewrap' | 'plain',
): DoctorCheck {
  const name = 'sandbox network';
  if ('error' in policy) {
    return {
      name,
      isRequired: false,
      status: 'warning',
      detail: policy.error,
      fix: 'fix the configuration (loki config show)',
    };
  }
  const reach =
    policy.mode === 'none'
      ? 'no network'
      : policy.mode === 'full'
        ? "the host's whole network, its loopback services included"
        : `only ${policy.allowedHosts.join(', ')} and the provider's model API host, through Loki's filtering proxy`;
  const detail = `${policy.mode} (sandbox.network from ${policy.source}): ${reach}; runner: ${runnerKind}`;
  if (runnerKind === 'plain' && policy.mode !== 'full') {
    return {
      name,
      isRequired: false,
      status: 'warning',
      detail: `${detail}; NOT enforced, commands run without isolation`,
      fix: 'apt-get install bubblewrap (and allow unprivileged user namespaces if it still fails)',
    };
  }
  return { name, isRequired: false, status: 'ok', detail };
}
