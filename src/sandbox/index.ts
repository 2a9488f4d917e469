export { buildSandboxEnvironment, type BuildSandboxEnvironmentOptions } from './build-sandbox-environment.ts';
export {
  BubblewrapRunner,
  type BubblewrapRunnerOptions,
  buildBubblewrapArguments,
  DEFAULT_HIDDEN_HOME_PATHS,
} from './bubblewrap-runner.ts';
export { AllowListProxy, type AllowListProxyOptions, type RefusedConnection } from './allow-list-proxy.ts';
export {
  assertCommandAllowed,
  type CommandDecision,
  type CommandDenyRule,
  type CommandLocation,
  type CommandPolicy,
  createCommandPolicy,
  type CreateCommandPolicyOptions,
  evaluateCommand,
} from './command-policy.ts';
export type { CommandRequest, CommandResult, CommandRunner, CommandRunnerKind } from './command-runner.ts';
export { DEFAULT_COMMAND_DENY_RULES } from './default-command-deny-rules.ts';
export {
  type CommandRunnerDetection,
  detectCommandRunner,
  type DetectCommandRunnerOptions,
} from './detect-command-runner.ts';
export {
  ALLOWED_HOSTS_CONFIG_KEY,
  isHostAllowed,
  NETWORK_MODE_CONFIG_KEY,
  SANDBOX_NETWORK_MODES,
  type SandboxNetworkMode,
} from './network-policy.ts';
export { findExecutable } from './find-executable.ts';
export { PlainRunner } from './plain-runner.ts';
export { createRedactor, type CreateRedactorOptions, REDACTED, type Redactor } from './redactor.ts';
export { DEFAULT_PROCESS_TIMING, type ProcessTiming } from './run-process-group.ts';
export { SandboxErrorCode } from './sandbox-errors.ts';
export { SandboxNetwork, type SandboxNetworkAccess, shellQuote } from './sandbox-network.ts';
export { terminateProcessTree, type TerminateProcessTreeOptions } from './terminate-process-tree.ts';
export {
  terminateLeftoverProcesses,
  type TerminateLeftoverProcessesOptions,
} from './terminate-leftover-processes.ts';
export {
  type WrapInBubblewrapOptions,
  type WrappedInvocation,
  wrapInBubblewrap,
} from './wrap-in-bubblewrap.ts';
export { type ProcessGroupLaunch, runProcessGroup } from './run-process-group.ts';
