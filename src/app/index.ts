export type { AppContext } from './app-context.ts';
export {
  configuredModelOverrides,
  createAppAgentSource,
  resolveBudgetCapUsd,
  selectRunProvider,
} from './app-agent-source.ts';
export { openAppWorkspace, resolveAppConfig, runLiveness } from './open-app-workspace.ts';
export { parseWholeNumberOption } from './parse-whole-number.ts';
export { type DemoWorkspace, prepareDemo } from './prepare-demo.ts';
export {
  describeRunSettings,
  modelOverridesOf,
  type ResolvedRunSettings,
  resolveRunSettings,
  type RunSettingFlags,
} from './run-settings.ts';
export {
  type RunObserver,
  type RunRequest,
  type RunResult,
  type RunStart,
  runWorkspace,
} from './run-workspace.ts';
export { addTask, cancelTask, prioritizeTask, retryTask } from './change-queue.ts';
export { listTasks, showTask } from './read-queue.ts';
export { readStatus } from './read-status.ts';
export { type RunProgress, type RunProgressAgent, runProgressOf } from './run-progress.ts';
export { readRunReport, type RunReportFiles } from './read-run-report.ts';
export { type OneTaskObserver, type OneTaskRequest, runOneTask } from './run-one-task.ts';
export {
  type AgentInstanceJson,
  type AgentsJson,
  type AgentTypeJson,
  type InstanceTaskJson,
  listAgents,
  listAgentsOf,
} from './list-agents.ts';
export { findLiveRun, type RunLiveness } from './find-live-run.ts';
export {
  continueRun,
  type PauseOrContinueResult,
  pauseRun,
  type RunControlOptions,
  stopRun,
  type StopRunOptions,
  type StopRunResult,
} from './run-control.ts';
export {
  formatVerifyMarkdown,
  type VerifyOutcome,
  type VerifyRequest,
  verifyProject,
} from './verify-project.ts';
export { modelApiHost, readSandboxNetworkPolicy } from './start-sandbox-network.ts';
export {
  deployProduct,
  type DeploymentOverview,
  type DeployRequest,
  deployWorkspace,
  readDeployments,
  rollbackDeployment,
  stopDeployment,
} from './deploy-product.ts';
export {
  type BackgroundRun,
  type BackgroundRunRequest,
  startRunInBackground,
} from './start-run-in-background.ts';
export { runWorker, type WorkerObserver, type WorkerRequest, type WorkerResult } from './run-worker.ts';
export { listWorkers, type WorkersJson } from './list-workers.ts';
