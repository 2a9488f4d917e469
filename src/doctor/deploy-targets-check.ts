import { createCliRunner, detectCloudTargets } from '../deploy/targets/index.ts';
import type { DoctorCheck } from './run-doctor.ts';

/**
 * One line for all deploy targets: the local target always works, the others are listed as usable
 * (CLI on PATH and credentials present) or not; `loki deploy targets` gives each one's reason.
 * Optional by nature, so always `ok`: not having a cloud CLI is not a problem of this machine.
 */
export async function deployTargetsCheck(
  env: Readonly<Record<string, string | undefined>>,
): Promise<DoctorCheck> {
  const targets = await detectCloudTargets(createCliRunner({ env }));
  const usable = ['local', ...targets.filter((target) => target.usable).map((target) => target.name)];
  const unusable = targets.filter((target) => !target.usable).map((target) => target.name);
  const notUsable =
    unusable.length === 0
      ? ''
      : `; not usable here: ${unusable.join(', ')} (\`loki deploy targets\` says why)`;
  return {
    name: 'deploy targets',
    isRequired: false,
    status: 'ok',
    detail: `usable: ${usable.join(', ')}${notUsable}`,
  };
}
