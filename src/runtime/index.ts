export {
  type AgentLoopOptions,
  type AgentLoopResult,
  type BudgetHold,
  type CallBudget,
  type LoopTool,
  MAX_OUTPUT_TOKENS_PER_CALL,
  runAgentLoop,
  type StepTokens,
  type TaskCompletion,
  type ToolCallRequest,
  type ToolOutcome,
  type UsageTotals,
} from './agent-loop.ts';
export {
  buildSystemPrompt,
  HARNESS_RULES,
  NOT_PROVEN_REASON,
  runTaskCycle,
  type TaskCycleOptions,
  type TaskCycleResult,
  type WorkCheck,
} from './run-task-cycle.ts';
export {
  type AgentRound,
  type AgentRoundResult,
  createClaudeCodeAgent,
  createCodexAgent,
  createLoopAgent,
  type TaskAgent,
} from './task-agent.ts';
export { joinVerifyCommands } from './join-verify-commands.ts';
export { buildTaskPrompt } from './task-prompt.ts';
export { runSingleTask, type RunSingleTaskOptions, type RunSingleTaskResult } from './run-single-task.ts';
export { type TaskRetryPolicy, taskRetryPolicy } from './task-retry-policy.ts';
export {
  claudeCodeToolsFor,
  confineWritesToWorktree,
  taskCompleteMcpTool,
} from './claude-code-permissions.ts';
export { type CodexToolPolicy, judgeCodexToolCall, patchTargets } from './codex-tool-guard.ts';
