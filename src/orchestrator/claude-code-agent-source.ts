import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRolePrompt } from '../agents/index.ts';
import { findExecutable } from '../doctor/index.ts';
import { runClaudeCodeSubmission } from '../planning/index.ts';
import {
  buildSystemPrompt,
  claudeCodeToolsFor,
  confineWritesToWorktree,
  createClaudeCodeAgent,
  taskCompleteMcpTool,
} from '../runtime/index.ts';
import { wrapInBubblewrap } from '../sandbox/index.ts';
import type { AgentSource, AgentSourceOptions } from './agent-source.ts';
import { cliBudgetOf } from './cli-budget-of.ts';

/** A planning session may read a long PRD and hand in a large plan; it has no tools to run. */
const PLANNING_TIMEOUT_MILLISECONDS = 20 * 60 * 1000;

/**
 * Claude Code (through the Claude Agent SDK) as every agent of a run: planners hand in their
 * documents through Loki's `loki` MCP tools, task agents use Claude Code's own tools, limited to
 * what their agent type's catalog entry allows and with file writes confined to the worktree.
 */
export function claudeCodeAgentSource(options: AgentSourceOptions): AgentSource {
  const provider = 'claude-code';
  const modelChoice = options.modelOverrides.default;
  const executablePath = claudeExecutable(options.env);
  const common = {
    env: options.env,
    ...(executablePath === undefined ? {} : { executablePath }),
  };
  return {
    provider,
    runtime: provider,
    description: `${provider} CLI${modelChoice === undefined ? '' : ` (${modelChoice})`}`,
    runSubmission: (_phase, spec, runOptions) => {
      // Claude Code needs a working directory; the planner has no file tools, so an empty one.
      const workingDirectory = join(options.logsDirectory, 'claude-code-planning');
      mkdirSync(workingDirectory, { recursive: true });
      const planningModel = options.modelOverrides.planning ?? modelChoice;
      return runClaudeCodeSubmission(spec, runOptions, {
        ...common,
        workingDirectory,
        ...(planningModel === undefined ? {} : { model: planningModel }),
        timeoutMilliseconds: PLANNING_TIMEOUT_MILLISECONDS,
      });
    },
    modelIdFor: (tier) => options.modelOverrides[tier] ?? `${provider} default`,
    createTaskAgent: (request) => {
      const lokiToolNames: readonly string[] = request.agentType.tools;
      const tools = claudeCodeToolsFor(lokiToolNames);
      return createClaudeCodeAgent({
        ...common,
        worktree: request.worktree.path,
        systemPrompt: buildSystemPrompt(readRolePrompt(request.agentType.id)),
        ...(modelChoice === undefined ? {} : { model: modelChoice }),
        emit: request.emit,
        runId: request.runId,
        taskId: request.task.id,
        timeoutMilliseconds: request.task.timeoutSeconds * 1000,
        retry: request.retry,
        // With bubblewrap, Claude Code itself runs sandboxed, so its Bash tool is confined like run_command.
        ...(options.bubblewrapPath === undefined
          ? {}
          : {
              wrapInvocation: wrapInBubblewrap({
                bubblewrapPath: options.bubblewrapPath,
                worktree: request.worktree.path,
                writablePaths: claudeCodeStatePaths(options.env),
                pathVariable: options.env.PATH,
                // The same network policy and credential masks as run_command.
                ...(options.sandboxNetwork === undefined ? {} : { network: options.sandboxNetwork }),
                ...(options.env.HOME === undefined ? {} : { homeDirectory: options.env.HOME }),
              }),
            }),
        // The catalog decides the tools: a role without run_command gets no Bash at all.
        permissionMode: 'dontAsk',
        tools,
        allowedTools: tools,
        lokiTools: lokiToolNames.includes('task_complete') ? [taskCompleteMcpTool()] : [],
        checkToolUse: confineWritesToWorktree(request.worktree.path),
        maxTurns: request.maxSteps,
        ...cliBudgetOf(request),
      });
    },
  };
}

/** `LOKI_CLAUDE_PATH` when set, else `claude` on PATH; undefined leaves the lookup to the spawn. */
function claudeExecutable(env: NodeJS.ProcessEnv): string | undefined {
  const configured = env.LOKI_CLAUDE_PATH;
  if (configured !== undefined && configured !== '') return configured;
  return findExecutable('claude', env.PATH);
}

/**
 * Where Claude Code keeps its state: it must stay writable when Claude Code runs sandboxed. The
 * state directory is created first when missing: bubblewrap binds only what exists, and a session
 * written into the sandbox's throwaway root would be gone when the next round resumes it ("No
 * conversation found"). `.claude.json` is left to Claude Code (an empty one is not a valid config).
 */
function claudeCodeStatePaths(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? '';
  const stateDirectory =
    env.CLAUDE_CONFIG_DIR !== undefined && env.CLAUDE_CONFIG_DIR !== ''
      ? env.CLAUDE_CONFIG_DIR
      : home === ''
        ? null
        : join(home, '.claude');
  if (stateDirectory !== null) mkdirSync(stateDirectory, { recursive: true, mode: 0o700 });
  return [
    ...(stateDirectory === null ? [] : [stateDirectory]),
    ...(home === '' ? [] : [join(home, '.claude.json')]),
  ];
}
