/**
 * The one place where Loki's events are defined. Every state change in the store appends one of
 * these in the same transaction as the row it changes; the dashboard, STATUS.txt, metrics and the
 * CLI read them instead of polling or grepping logs.
 *
 * Adding or changing an event means changing its schema in event-schemas.ts too: the store refuses
 * any event its schema does not accept, and the typecheck fails until the two agree.
 */

export interface TaskEnqueuedData {
  type: string;
  title: string;
  priority: number;
  dependencies: string[];
  idempotencyKey: string | null;
}
export interface TaskClaimedData {
  workerId: string;
  attempt: number;
  leaseExpiresAt: number;
}
export interface TaskCompletedData {
  workerId: string;
  attempt: number;
}
export interface TaskFailedData {
  workerId: string;
  attempt: number;
  error: string;
  failureCount: number;
  backoffSeconds: number;
  availableAt: number;
}
export interface TaskDeadLetteredData {
  workerId: string | null;
  error: string;
  failureCount: number;
}
export interface TaskLeaseExpiredData {
  workerId: string | null;
  reason: 'claim_timeout';
  failureCount: number;
}
export interface TaskCancelledData {
  previousStatus: string;
  reason: string | null;
}
export interface TaskRetriedData {
  previousStatus: string;
}
/**
 * An in_progress task went back to pending without counting a failure: a graceful stop, a resumed
 * run taking back its dead process's tasks, or a wait it must not spend holding a worker (a long
 * rate limit, an open circuit breaker).
 */
export interface TaskReleasedData {
  /** The worker that held the task. */
  workerId: string | null;
  reason: string;
  /** Set when the task may not be claimed again before this time (epoch ms). */
  availableAt?: number;
}
/**
 * A worker gave up a task it no longer holds (its lease expired and another worker took it, or it
 * was cancelled): the worker's work on it is dropped, nothing of it is merged.
 */
export interface TaskAbandonedData {
  workerId: string;
  reason: string;
}
/** A held task went back to pending to wait for tasks added in the same transaction (e.g. a merge conflict's resolution). */
export interface TaskDeferredData {
  workerId: string;
  addedDependencies: string[];
  reason: string;
}
export interface TaskReprioritizedData {
  previousPriority: number;
  priority: number;
}
export interface WorkspaceInitializedData {
  root: string;
  hasPrd: boolean;
}
/**
 * A session of a run began: `loki run` created it (`resumed: false`) or `loki resume` took it up
 * again (`resumed: true`), whatever state it was left in. Written by the store only, in the
 * transaction that creates the run or sets it running again: exactly one per session.
 */
export interface RunStartedData {
  prdPath: string | null;
  resumed: boolean;
}
/**
 * How a run works, recorded when it starts so that `loki resume` continues it the same way. Never
 * holds a secret: no API key, and a store location is recorded as the store shows it (redacted).
 */
export interface RunSettingsData {
  provider: string;
  /** Model per tier; null: the provider's default for that tier. */
  models: { planning: string | null; default: string | null; fast: string | null };
  /** Absolute path of the scripted session, with the scripted provider. */
  script: string | null;
  parallel: number;
  /** The hard spending cap in USD; null: no cap. */
  budgetUsd: number | null;
  maxTaskAttempts: number;
  perpetual: boolean;
  maxIterations: number | null;
  /**
   * Whether the Deployment phase puts main live (false: --no-deploy). Absent from the settings of
   * runs recorded before it was kept: those deploy, as they did.
   */
  deploy: boolean;
  store: { kind: string; location: string };
}
export interface RunSettingsRecordedData {
  settings: RunSettingsData;
  /** The settings given on the command line this time; the others came from the run or the configuration. */
  given: string[];
}
/**
 * The project's gates (the architecture's `verifyCommands`) of the run, recorded by the run's own
 * process once its Architecture phase has them: workers on other machines verify their tasks with
 * them, as the merge coordinator will (their clones do not have the coordinator's specs). The latest
 * one of a run holds.
 */
export interface RunGatesRecordedData {
  verifyCommands: string[];
}
/**
 * Who asked to steer a run: a command (`loki stop|pause|continue`), a signal in the run's own
 * terminal (Ctrl-C), the dashboard, or a new session of the run (`loki resume`) clearing a request
 * left by the session before it.
 */
export type RunControlRequester = 'cli' | 'signal' | 'dashboard' | 'mcp' | 'resume';
/**
 * A request to steer a live run, recorded in the store by any process (`run.stop_requested`,
 * `run.paused`, `run.continued`); the run's process acts on it within a second. Paused: no new task
 * is claimed, agents at work finish theirs.
 */
export interface RunControlData {
  requestedBy: RunControlRequester;
}
export interface RunPhaseEnteredData {
  phase: string;
}
/** How a run ended, in the words of its report and of `loki run`'s outcome. */
export type RunOutcomeWord =
  'completed' | 'not_verified' | 'budget' | 'blocked' | 'stalled' | 'stopped' | 'failed';
/**
 * A session of a run ended. Written by the store only, in the transaction that gives the run its
 * final status: exactly one per session that ended (a killed process writes none; its resume ends it).
 */
export interface RunEndedData {
  /** The run's stored status: completed, stopped (by the user or the budget; resumable) or failed. */
  status: 'completed' | 'stopped' | 'failed';
  /** Why, in the report's words; the same as `status` when the run was ended without one. */
  outcome: RunOutcomeWord;
  /** The exit code `loki run` ends with; null when the run was ended without one. */
  exitCode: number | null;
}
export interface PhaseExitedData {
  phase: string;
  /** passed: exit criteria met; failed: not met (the run ends); stopped: interrupted or out of budget. */
  outcome: 'passed' | 'failed' | 'stopped';
  /** What the exit criteria found, in one line. */
  details: string;
}
export interface MergeCompletedData {
  commit: string;
  previousMain: string;
  /** Set when the merge is a resolution task's: the task whose work it carries. */
  resolves: string | null;
}
export interface MergeRejectedData {
  outcome: 'conflict' | 'verification_failed';
  details: string;
  /** The resolution task created for it. */
  resolutionTaskId: string;
}
/**
 * A worker on another machine asks the merge coordinator to merge its task's branch, which it has
 * pushed to the shared remote (distributed runs, DESIGN.md §3 Store and distribution). The event
 * log is the merge queue between machines: the coordinator decides requests in sequence order.
 */
export interface MergeRequestedData {
  /** Unique per request; the matching `merge.decided` names it. */
  requestId: string;
  /** The worker holding the task: the coordinator merges only while that worker still holds it. */
  workerId: string;
  /** The task branch on the remote (`loki/<task-id>`). */
  branch: string;
  /** The branch tip the worker pushed: exactly this commit is merged, whatever the branch holds later. */
  commit: string;
  agentType: string;
  title: string;
  verifyCommands: string[];
  /** Git trailers for main's checkpoint (`Loki-Task: <id>`…): how a new coordinator sees what main holds. */
  trailers: Record<string, string>;
}
/** The coordinator's answer to one `merge.requested`, with what a local merge queue would return. */
export interface MergeDecidedData {
  requestId: string;
  outcome: 'merged' | 'conflict' | 'verification_failed' | 'withdrawn';
  /** merged: the checkpoint main now points at on the remote; else null. */
  commit: string | null;
  /** merged: main before it; else null. */
  previousMain: string | null;
  /** conflict: the conflicting files; else empty. */
  files: string[];
  /** conflict or withdrawn: why; verification_failed: the output tail; merged: empty. */
  details: string;
  /** verification_failed: the command (or gate) that failed; else null. */
  command: string | null;
  exitCode: number | null;
  gate: { name: string; reason: string; hasCommand: boolean } | null;
  /** merged: main already held the task's work (a coordinator died after pushing); nothing was merged again. */
  alreadyOnMain: boolean;
}
/** A Loki process registered in the store's worker registry (its first heartbeat). */
export interface WorkerJoinedData {
  /** The process's id: the prefix of the worker ids it claims tasks with. */
  workerId: string;
  machine: string;
  pid: number;
  role: 'run' | 'worker';
  parallel: number;
  /** The agent types it claims; null for any. */
  types: string[] | null;
}
/** A registered process said it stopped (a lost one, killed or cut off, says nothing). */
export interface WorkerLeftData {
  workerId: string;
  machine: string;
}
export interface WorkersLimitedData {
  requested: number;
  limit: number;
  reason: string | null;
}

/** Which runtime an agent ran on: Loki's own tool loop over an API model, or an agent CLI. */
export type RuntimeKind = 'api' | 'claude-code' | 'codex' | 'scripted';

/**
 * An agent session began: one per attempt (claim) of a task that runs an agent, however many RARV
 * rounds (and agent-CLI processes) the attempt takes. Written by the RARV cycle only
 * (`runTaskCycle`), before the agent's first round; each round ends with its own `agent.finished`.
 */
export interface AgentStartedData {
  agentType: string;
  runtime: RuntimeKind;
  provider: string;
  model: string;
}
export interface AgentTextData {
  text: string;
}
export interface AgentToolCalledData {
  toolCallId: string;
  toolName: string;
  input: unknown;
}
export interface AgentToolResultData {
  toolCallId: string;
  toolName: string;
  isError: boolean;
  /** Model-visible output, truncated; the full text is kept in a file named by `fullOutputPath`. */
  output: string;
  fullOutputPath: string | null;
  durationMilliseconds: number;
}
export interface UsageRecordedData {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** False when the model is not in the pricing table: the cost is unknown, not zero. */
  isPriceKnown: boolean;
}
export type FailureCategory = 'transient' | 'rate_limited' | 'permanent';
export interface AgentRetryData {
  attempt: number;
  delayMilliseconds: number;
  category: FailureCategory;
  reason: string;
}
export interface AgentRateLimitedData {
  provider: string;
  retryAfterMilliseconds: number | null;
}
export interface AgentErrorData {
  code: string;
  category: FailureCategory | 'internal';
  message: string;
}
export type AgentStopReason =
  'task_complete' | 'step_limit' | 'loop_detected' | 'no_progress' | 'error' | 'aborted';
/** One round of an agent ended (a task's agent session has one per RARV round; a planning phase one). */
export interface AgentFinishedData {
  reason: AgentStopReason;
  steps: number;
  summary: string | null;
}
export interface SandboxRefusedData {
  toolName: string;
  /** Stable reason code, e.g. path_escape, symlink_escape, command_denied, timeout. */
  reason: string;
  detail: string;
}
export interface BreakerChangedData {
  /** `provider:<name>` or `agent-type:<type>`. */
  breaker: string;
  state: 'closed' | 'open' | 'half_open';
  consecutiveFailures: number;
}
/** The agent's work held secrets: it went back to the agent and nothing of it was committed. */
export interface SecretFoundData {
  /** Each file and the kinds of secret in it, named without their values. */
  files: { path: string; secrets: string[] }[];
}

/**
 * Loki recorded the acceptance tests a QA task wrote (the one writer: the acceptance step). The
 * store is the seal: agents write only inside their worktrees, never the store. The latest record
 * of a path is its sealed content; `content: null` means the QA task deleted that test file.
 */
export interface AcceptanceSealedData {
  /** The implementation task the tests are for; null for a QA task's own (re)sealing. */
  forTaskId: string | null;
  files: { path: string; sha256: string | null; content: string | null }[];
}
/** An implementing agent changed a sealed acceptance test: its work went back to it, unverified. */
export interface AcceptanceTamperedData {
  changes: { path: string; kind: TamperKind; detail: string }[];
}
export type TamperKind =
  'deleted' | 'test_removed' | 'skipped' | 'focused' | 'emptied' | 'assertion_removed' | 'modified';

export interface VerificationRanData {
  command: string;
  exitCode: number | null;
  passed: boolean;
  durationMilliseconds: number;
  outputTail: string;
}

/**
 * A quality gate judged a commit: a merge result before main moves (`merge`), or main at QA or
 * Deployment. `blocks` says whether this verdict holds main back (the merge was refused, or the
 * failure became fix work); a failure main already had, or of a non-blocking gate, does not.
 */
export interface GateEvaluatedData {
  stage: 'merge' | 'qa' | 'deployment';
  gate: string;
  verdict: 'pass' | 'fail' | 'not-proven';
  reason: string;
  commit: string;
  blocks: boolean;
  command: string | null;
  exitCode: number | null;
  durationMilliseconds: number;
  counts: { passed: number; failed: number; skipped: number; framework: string } | null;
  outputExcerpt: string;
}

/** One finding of a blind reviewer, and what Loki does with it. */
export interface ReviewFindingReportedData {
  /** review-code, review-business, review-security or devils-advocate. */
  reviewer: string;
  round: number;
  severity: 'Critical' | 'High' | 'Medium' | 'Low' | 'Cosmetic';
  file: string;
  line: number;
  message: string;
  suggestedFix: string;
  /** fix: blocks the merge and goes back to the agent; todo_comment / nitpick_comment: written at the line. */
  routing: 'fix' | 'todo_comment' | 'nitpick_comment';
}

/** One review round of a task ended: approved (on to the merge) or changes requested (fix work, or failed). */
export interface ReviewCompletedData {
  round: number;
  outcome: 'approved' | 'changes_requested';
  reviewers: string[];
  devilsAdvocate: boolean;
  /** Findings per severity in this round. */
  counts: { critical: number; high: number; medium: number; low: number; cosmetic: number };
  /** What follows: merge, a fix round by the task's agent, or the task fails (review rounds used up). */
  next: 'merge' | 'fix' | 'fail';
}

/** A release was built from a commit of main: its files copied out of git, its build command run. */
export interface ReleaseBuiltData {
  version: string;
  commit: string;
  target: string;
  directory: string;
  /** How it starts and is checked, kept so a rollback starts it as it was built. */
  startCommand: string;
  healthPath: string;
  /** The build command, null when the product has none. */
  buildCommand: string | null;
}
export interface DeployCheckData {
  name: string;
  verdict: 'pass' | 'fail' | 'not-proven';
  detail: string;
}
export interface CanaryStepData {
  percent: number;
  candidate: TrafficSampleData;
  baseline: TrafficSampleData;
  passed: boolean;
}
export interface TrafficSampleData {
  requests: number;
  errors: number;
  medianLatencyMilliseconds: number | null;
}
/**
 * A deployment of a release ended: live (it serves), rolled_back (its checks or its canary failed;
 * the release before it kept serving), failed (it could not be built or started) or not_proven
 * (the target cannot deploy from this machine: its CLI, credentials or engine are missing).
 */
export interface ReleaseDeployedData {
  version: string;
  target: string;
  strategy: 'blue-green' | 'canary';
  status: 'live' | 'rolled_back' | 'failed' | 'not_proven';
  url: string | null;
  reason: string | null;
  checks: DeployCheckData[];
  canarySteps: CanaryStepData[];
}
/** `loki rollback`: traffic switched from one release back to an earlier one. */
export interface ReleaseRolledBackData {
  target: string;
  fromVersion: string | null;
  toVersion: string;
  url: string | null;
  wasWarm: boolean;
}
/** `loki deploy stop`: the target stopped serving. */
export interface DeploymentStoppedData {
  target: string;
  version: string | null;
}
/** A verification gate's verdict on a commit (src/gates GateResult, its evidence left in the gate's files). */

export interface EventDataByType {
  'task.enqueued': TaskEnqueuedData;
  'task.claimed': TaskClaimedData;
  'task.completed': TaskCompletedData;
  'task.failed': TaskFailedData;
  'task.dead_lettered': TaskDeadLetteredData;
  'task.lease_expired': TaskLeaseExpiredData;
  'task.cancelled': TaskCancelledData;
  'task.retried': TaskRetriedData;
  'task.released': TaskReleasedData;
  'task.deferred': TaskDeferredData;
  'task.reprioritized': TaskReprioritizedData;
  'task.abandoned': TaskAbandonedData;
  'workspace.initialized': WorkspaceInitializedData;
  'run.started': RunStartedData;
  'run.settings_recorded': RunSettingsRecordedData;
  'run.gates_recorded': RunGatesRecordedData;
  'phase.entered': RunPhaseEnteredData;
  'run.ended': RunEndedData;
  'run.stop_requested': RunControlData;
  'run.paused': RunControlData;
  'run.continued': RunControlData;
  'phase.exited': PhaseExitedData;
  'merge.completed': MergeCompletedData;
  'merge.rejected': MergeRejectedData;
  'merge.requested': MergeRequestedData;
  'merge.decided': MergeDecidedData;
  'workers.limited': WorkersLimitedData;
  'worker.joined': WorkerJoinedData;
  'worker.left': WorkerLeftData;
  'agent.started': AgentStartedData;
  'agent.text': AgentTextData;
  'agent.tool_called': AgentToolCalledData;
  'agent.tool_result': AgentToolResultData;
  'usage.recorded': UsageRecordedData;
  'agent.retry': AgentRetryData;
  'agent.rate_limited': AgentRateLimitedData;
  'agent.error': AgentErrorData;
  'agent.finished': AgentFinishedData;
  'sandbox.refused': SandboxRefusedData;
  'breaker.changed': BreakerChangedData;
  'verification.ran': VerificationRanData;
  'gate.evaluated': GateEvaluatedData;
  'secret.found': SecretFoundData;
  'acceptance.sealed': AcceptanceSealedData;
  'acceptance.tampered': AcceptanceTamperedData;
  'review.finding_reported': ReviewFindingReportedData;
  'review.completed': ReviewCompletedData;
  'release.built': ReleaseBuiltData;
  'release.deployed': ReleaseDeployedData;
  'release.rolled_back': ReleaseRolledBackData;
  'deployment.stopped': DeploymentStoppedData;
}

export type EventType = keyof EventDataByType;

/** An event about to be appended (the store assigns `sequence`). */
export type NewEvent = {
  [K in EventType]: { type: K; runId: string | null; taskId: string | null; data: EventDataByType[K] };
}[EventType];

/** An event as stored: totally ordered by `sequence` within one store. */
export type LokiEvent = NewEvent & { sequence: number; createdAt: number };

export const EVENT_TYPES: readonly EventType[] = [
  'task.enqueued',
  'task.claimed',
  'task.completed',
  'task.failed',
  'task.dead_lettered',
  'task.lease_expired',
  'task.cancelled',
  'task.retried',
  'task.released',
  'task.deferred',
  'task.reprioritized',
  'task.abandoned',
  'workspace.initialized',
  'run.started',
  'run.settings_recorded',
  'run.gates_recorded',
  'phase.entered',
  'run.ended',
  'run.stop_requested',
  'run.paused',
  'run.continued',
  'phase.exited',
  'merge.completed',
  'merge.rejected',
  'merge.requested',
  'merge.decided',
  'workers.limited',
  'worker.joined',
  'worker.left',
  'agent.started',
  'agent.text',
  'agent.tool_called',
  'agent.tool_result',
  'usage.recorded',
  'agent.retry',
  'agent.rate_limited',
  'agent.error',
  'agent.finished',
  'sandbox.refused',
  'breaker.changed',
  'verification.ran',
  'gate.evaluated',
  'secret.found',
  'acceptance.sealed',
  'acceptance.tampered',
  'review.finding_reported',
  'review.completed',
  'release.built',
  'release.deployed',
  'release.rolled_back',
  'deployment.stopped',
];
