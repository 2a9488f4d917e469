export { findExecutable } from './find-executable.ts';
export { formatDoctorReport } from './format-doctor-report.ts';
export {
  type DoctorCheck,
  type DoctorCheckStatus,
  type DoctorReport,
  MINIMUM_NODE_VERSION,
  type RunDoctorOptions,
  runDoctor,
} from './run-doctor.ts';
export type { SandboxNetworkPolicy } from './sandbox-network-check.ts';
