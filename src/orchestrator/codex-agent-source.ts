import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readRolePrompt } from '../agents/index.ts';
import { LokiError } from '../errors/index.ts';
import {
  acceptTaskCompleteInput,
  LOKI_AGENT_TOOL_NAMES,
  type LokiAgentToolName,
  type LokiToolContext,
  lokiToolsCommand,
} from '../mcp/index.ts';
import { runCodexSubmission, type SubmissionSpec } from '../planning/index.ts';
import { buildSystemPrompt, createCodexAgent } from '../runtime/index.ts';
import type { AgentSource, AgentSourceOptions, PlanningPhase } from './agent-source.ts';
import { cliBudgetOf } from './cli-budget-of.ts';

/** A planning session may read a long PRD and hand in a large plan. */
const PLANNING_TIMEOUT_MILLISECONDS = 20 * 60 * 1000;

/**
 * Codex (through the Codex SDK) as every agent of a run: planners hand in their documents through
 * the phase's submission tool from `loki mcp-tools` in a read-only sandbox; task agents use Codex's
 * own tools in a `workspace-write` sandbox and complete through `task_complete`.
 */
export function codexAgentSource(options: AgentSourceOptions): AgentSource {
  const provider = 'codex';
  const modelChoice = options.modelOverrides.default;
  return {
    provider,
    runtime: provider,
    description: `${provider} CLI${modelChoice === undefined ? '' : ` (${modelChoice})`}`,
    runSubmission: (phase, spec, runOptions) => {
      const planningDirectory = resolve(options.logsDirectory, 'codex-planning');
      // The session's cwd stays empty: the planner reads what the prompt gives it.
      const workingDirectory = join(planningDirectory, 'session');
      mkdirSync(workingDirectory, { recursive: true });
      const contextFile = join(planningDirectory, `${phaseName(phase)}-context.json`);
      writeFileSync(contextFile, JSON.stringify(toolContextOf(spec)));
      const planningModel = options.modelOverrides.planning ?? modelChoice;
      return runCodexSubmission(spec, runOptions, {
        workingDirectory,
        env: options.env,
        ...(planningModel === undefined ? {} : { model: planningModel }),
        timeoutMilliseconds: PLANNING_TIMEOUT_MILLISECONDS,
        lokiTools: lokiToolsCommand([submissionToolName(spec)], { contextFile }),
      });
    },
    modelIdFor: (tier) => options.modelOverrides[tier] ?? `${provider} default`,
    createTaskAgent: (request) =>
      createCodexAgent({
        worktree: request.worktree.path,
        systemPrompt: buildSystemPrompt(readRolePrompt(request.agentType.id)),
        ...(modelChoice === undefined ? {} : { model: modelChoice }),
        env: options.env,
        emit: request.emit,
        runId: request.runId,
        taskId: request.task.id,
        timeoutMilliseconds: request.task.timeoutSeconds * 1000,
        retry: request.retry,
        sandboxMode: 'workspace-write',
        // Codex completes through Loki's task_complete, served by `loki mcp-tools` as MCP server `loki`.
        lokiTools: { ...lokiToolsCommand(['task_complete']), acceptTaskComplete: acceptTaskCompleteInput },
        ...cliBudgetOf(request),
      }),
  };
}

function phaseName(phase: PlanningPhase): string {
  return typeof phase === 'string' ? phase : `growth-${phase.growthIteration}`;
}

/** What the MCP server checks a submission against: the same data the phase's own check uses. */
function toolContextOf(spec: Pick<SubmissionSpec<unknown>, 'checkedAgainst'>): LokiToolContext {
  const checkedAgainst = spec.checkedAgainst;
  if (checkedAgainst === undefined) return {};
  return {
    requirements: checkedAgainst.requirements,
    ...(checkedAgainst.existingTaskIds === undefined
      ? {}
      : { existingTaskIds: [...checkedAgainst.existingTaskIds] }),
  };
}

function submissionToolName(spec: Pick<SubmissionSpec<unknown>, 'phase' | 'toolName'>): LokiAgentToolName {
  const name = LOKI_AGENT_TOOL_NAMES.find((known) => known === spec.toolName);
  if (name === undefined || name === 'task_complete') {
    throw new LokiError(
      `${spec.phase} submits through ${spec.toolName}, which loki mcp-tools does not serve.`,
      {
        code: 'CODEX_PLANNING_TOOL_UNKNOWN',
        category: 'internal',
        context: { toolName: spec.toolName },
      },
    );
  }
  return name;
}
