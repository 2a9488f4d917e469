import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { readRolePrompt } from '../agents/index.ts';
import { LokiError } from '../errors/index.ts';
import {
  acceptTaskCompleteInput,
  codexToolGuardCommand,
  LOKI_AGENT_TOOL_NAMES,
  type LokiAgentToolName,
  type LokiToolContext,
  lokiToolsCommand,
} from '../mcp/index.ts';
import { runCodexSubmission, type SubmissionSpec } from '../planning/index.ts';
import type { CodexRuntimeOptions } from '../providers/index.ts';
import { buildSystemPrompt, createCodexAgent } from '../runtime/index.ts';
import { wrapInBubblewrap } from '../sandbox/index.ts';
import type { AgentSource, AgentSourceOptions, PlanningPhase } from './agent-source.ts';
import { cliBudgetOf } from './cli-budget-of.ts';

/** A planning session may read a long PRD and hand in a large plan. */
const PLANNING_TIMEOUT_MILLISECONDS = 20 * 60 * 1000;

/**
 * Codex (through the Codex SDK) as every agent of a run: planners hand in their documents through
 * the phase's submission tool from `loki mcp-tools` in Codex's read-only sandbox; task agents use
 * Codex's own tools, limited by their catalog entry, inside Loki's sandbox (see codexSandboxOf)
 * and complete through `task_complete`. Planners stay outside Loki's sandbox: they change no
 * file, and Codex's read-only sandbox (which cannot start inside Loki's) keeps their commands
 * from writing or reaching the network.
 */
export function codexAgentSource(options: AgentSourceOptions): AgentSource {
  const provider = 'codex';
  const modelChoice = options.modelOverrides.default;
  return {
    provider,
    runtime: provider,
    description: `${provider} CLI${modelChoice === undefined ? '' : ` (${modelChoice})`}`,
    // Reviewers hand in through submit_review from `loki mcp-tools`, like the planners.
    reviewsByDefault: () => true,
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
    createTaskAgent: (request) => {
      const commands = request.agentType.tools.includes('run_command');
      const guardDirectory = join(options.logsDirectory, 'codex-guard', `${request.task.id}-${randomUUID()}`);
      mkdirSync(guardDirectory, { recursive: true, mode: 0o700 });
      return createCodexAgent({
        ...codexSandboxOf(options, request.worktree.path, guardDirectory),
        // The catalog decides: a role that may neither run commands nor write files gets no shell
        // at all. A role that may write files keeps it (with some models Codex edits files only
        // through apply_patch run in its shell), and the guard refuses its commands if it may not
        // run any, and every patch outside the worktree, each refusal an event.
        shellTool: request.agentType.tools.some((tool) =>
          ['run_command', 'write_file', 'edit_file'].includes(tool),
        ),
        toolGuard: codexToolGuardCommand(
          { worktree: request.worktree.path, commands },
          join(guardDirectory, 'refusals.ndjson'),
        ),
        worktree: request.worktree.path,
        systemPrompt: buildSystemPrompt(readRolePrompt(request.agentType.id)),
        ...(modelChoice === undefined ? {} : { model: modelChoice }),
        env: options.env,
        emit: request.emit,
        runId: request.runId,
        taskId: request.task.id,
        timeoutMilliseconds: request.task.timeoutSeconds * 1000,
        retry: request.retry,
        // Codex completes through Loki's task_complete, served by `loki mcp-tools` as MCP server `loki`.
        lokiTools: { ...lokiToolsCommand(['task_complete']), acceptTaskComplete: acceptTaskCompleteInput },
        ...cliBudgetOf(request),
      });
    },
  };
}

/**
 * With bubblewrap, Codex runs inside Loki's own sandbox (the run_command one: worktree and Codex's
 * home writable, credentials masked, network by policy). Codex's own sandbox cannot start in
 * there (its bubblewrap cannot map a user namespace inside Loki's: "setting up uid map:
 * Operation not permitted", so every command would fail), so Codex runs with
 * `danger-full-access` and Loki's sandbox is the boundary. Without bubblewrap, Codex's own
 * `workspace-write` sandbox confines its commands.
 */
function codexSandboxOf(
  options: AgentSourceOptions,
  worktree: string,
  guardDirectory: string,
): Pick<CodexRuntimeOptions, 'sandboxMode' | 'wrapInvocation'> {
  if (options.bubblewrapPath === undefined) return { sandboxMode: 'workspace-write' };
  return {
    sandboxMode: 'danger-full-access',
    wrapInvocation: wrapInBubblewrap({
      bubblewrapPath: options.bubblewrapPath,
      worktree,
      // The guard runs as Codex's hook, inside this sandbox, and records its refusals there.
      writablePaths: [codexHomeOf(options.env), guardDirectory],
      pathVariable: options.env.PATH,
      ...(options.sandboxNetwork === undefined ? {} : { network: options.sandboxNetwork }),
      ...(options.env.HOME === undefined ? {} : { homeDirectory: options.env.HOME }),
    }),
  };
}

/**
 * CODEX_HOME, else ~/.codex: Codex keeps its login, config and threads there, so it stays
 * writable in the sandbox. Created when missing: bubblewrap binds only what exists, and threads
 * written into the sandbox's throwaway root could not be resumed by the next round.
 */
function codexHomeOf(env: NodeJS.ProcessEnv): string {
  const configured = env.CODEX_HOME;
  const home =
    configured !== undefined && configured !== '' ? configured : join(env.HOME ?? homedir(), '.codex');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}

function phaseName(phase: PlanningPhase): string {
  if (typeof phase === 'string') return phase;
  if ('growthIteration' in phase) return `growth-${phase.growthIteration}`;
  return `review-${phase.review.taskId}-${phase.review.reviewer}-${phase.review.round}`;
}

/** What the MCP server checks a submission against: the same data the phase's own check uses. */
function toolContextOf(
  spec: Pick<SubmissionSpec<unknown>, 'checkedAgainst' | 'changedFiles'>,
): LokiToolContext {
  const checkedAgainst = spec.checkedAgainst;
  if (spec.changedFiles !== undefined) return { changedFiles: Object.fromEntries(spec.changedFiles) };
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
