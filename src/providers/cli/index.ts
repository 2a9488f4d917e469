export { buildClaudeCodeEnvironment } from './build-claude-code-invocation.ts';
export {
  buildCodexEnvironment,
  CODEX_SANDBOX_MODES,
  type CodexSandboxMode,
} from './build-codex-invocation.ts';
export { LOKI_MCP_SERVER, type LokiMcpTool, lokiMcpToolName } from './claude-code-loki-server.ts';
export {
  type ClaudeCodePermissionMode,
  type ClaudeCodeRuntimeOptions,
  type ClaudeCodeToolRefusal,
  runClaudeCode,
} from './claude-code-runtime.ts';
export type { CliRuntimeOptions, ProcessInvocation } from './cli-runtime-options.ts';
export {
  CLI_TURN_MAX_OUTPUT_TOKENS,
  type CliBudget,
  type CliBudgetHold,
  CliTurnMeter,
  type CliTurnMeterOptions,
} from './cli-turn-meter.ts';
export type { CliRuntimeResult, CliRuntimeUsage, CliTaskCompletion } from './cli-runtime-result.ts';
export {
  type CodexRuntimeOptions,
  type CodexToolGuardCommand,
  type LokiToolsCommand,
  runCodex,
} from './codex-runtime.ts';
export {
  CODEX_GUARDED_TOOLS_MATCHER,
  codexHookDenial,
  type CodexToolRefusal,
  parseCodexRefusals,
} from './codex-tool-refusals.ts';
export type { CliRetryOptions } from './run-cli-attempts.ts';
export { DEFAULT_PROCESS_STOP_TIMING, type ProcessStopTiming } from './run-line-process.ts';
