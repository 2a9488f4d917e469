import { join } from 'node:path';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { type AgentType, readRolePrompt } from '../agents/index.ts';
import { type BudgetGovernor, createCallBudget } from '../budget/index.ts';
import { usageError } from '../errors/index.ts';
import type { NewEvent, RuntimeKind } from '../events/index.ts';
import type { TaskWorktree } from '../git/index.ts';
import { runSubmissionAgent, type SubmissionRunOptions, type SubmissionSpec } from '../planning/index.ts';
import {
  type ApiProviderName,
  createApiLanguageModel,
  createScriptedLanguageModel,
  isApiProviderName,
  type ModelOverrides,
  type ModelTier,
  priceUsage,
  reviewScriptOf,
  type ScriptedScript,
  type ScriptedSession,
  taskScriptOf,
} from '../providers/index.ts';
import {
  type AgentLoopOptions,
  buildSystemPrompt,
  createLoopAgent,
  MAX_OUTPUT_TOKENS_PER_CALL,
  type TaskAgent,
} from '../runtime/index.ts';
import {
  buildSandboxEnvironment,
  type CommandRunner,
  createRedactor,
  type SandboxNetworkAccess,
} from '../sandbox/index.ts';
import type { Task } from '../store/index.ts';
import { claudeCodeAgentSource } from './claude-code-agent-source.ts';
import { codexAgentSource } from './codex-agent-source.ts';
import { createAgentToolset, toolsForNames } from '../tools/index.ts';

/** A planning phase, or one blind reviewer of a task in one review round (from 1). */
export type PlanningPhase =
  | 'discovery'
  | 'architecture'
  | { growthIteration: number }
  | { review: { taskId: string; reviewer: string; round: number } };

/** Everything an agent of one task needs from the run. */
export interface TaskAgentRequest {
  task: Task;
  agentType: AgentType;
  tier: ModelTier;
  worktree: TaskWorktree;
  emit: (event: NewEvent) => void;
  retry: AgentLoopOptions['retry'];
  runId: string | null;
  governor: BudgetGovernor | null;
  signal: AbortSignal;
  maxSteps: number;
  /** Set while the worktree is still being created: tools wait for it (the model may start before). */
  worktreeReady?: Promise<unknown>;
}

/**
 * Where agents come from in a run: one provider (an API, an agent CLI or the scripted model) seen
 * through one interface, so the phases and the scheduler never care which.
 */
export interface AgentSource {
  readonly provider: string;
  readonly runtime: RuntimeKind;
  /** One line for people, e.g. "scripted model (replays session.json; no real model is called)". */
  readonly description: string;
  /**
   * Runs a planning phase's agent (Discovery, Architecture, a Growth iteration) until it hands in a
   * validated document through the phase's submission tool, on this provider's runtime.
   */
  runSubmission<T>(phase: PlanningPhase, spec: SubmissionSpec<T>, options: SubmissionRunOptions): Promise<T>;
  modelIdFor(tier: ModelTier): string;
  createTaskAgent(request: TaskAgentRequest): TaskAgent;
  /**
   * Whether a task is reviewed when `review.enabled` is auto. Left out: yes. The scripted provider
   * reviews only the tasks its session scripts reviewers for (a replayed session without review
   * scripts runs as it did before review existed).
   */
  reviewsByDefault?(taskId: string): boolean;
}

export interface AgentSourceOptions {
  provider: string;
  env: NodeJS.ProcessEnv;
  runner: CommandRunner;
  /** Where tools keep full outputs: `<logsDirectory>/tool-output/<task-id>`. */
  logsDirectory: string;
  modelOverrides: ModelOverrides;
  /** For the scripted provider: a whole session (loki run/demo) or one script (loki task run). */
  scripted?: { session: ScriptedSession; origin: string } | { script: ScriptedScript; origin: string };
  /** The bwrap executable when commands run in bubblewrap: agent CLIs then run inside it too. */
  bubblewrapPath?: string | undefined;
  /**
   * The run's network policy, which `runner` also applies: agents' commands may use the network
   * as it allows, and agent CLIs run under it. Unset: agents' commands get no network.
   */
  sandboxNetwork?: SandboxNetworkAccess | undefined;
}

/** Builds the agent source for a provider; throws a usage error naming what is missing. */
export function createAgentSource(options: AgentSourceOptions): AgentSource {
  const { provider } = options;
  const loopAgent = loopAgentFactory(options);
  if (provider === 'scripted') return scriptedAgentSource(options, loopAgent);
  if (isApiProviderName(provider)) return apiAgentSource(options, provider, loopAgent);
  if (provider === 'claude-code') return claudeCodeAgentSource(options);
  if (provider === 'codex') return codexAgentSource(options);
  throw usageError(
    'CLI_UNSUPPORTED_PROVIDER',
    `unknown provider ${provider}; use claude-code, codex, an API provider (anthropic, openai, openai-compatible, ollama) or scripted`,
  );
}

type LoopAgentFactory = (request: TaskAgentRequest, model: LanguageModelV4) => TaskAgent;

/** Loki's own tool loop over a model, with the tools the agent type may use, confined to the worktree. */
function loopAgentFactory(options: AgentSourceOptions): LoopAgentFactory {
  const sandboxEnvironment = buildSandboxEnvironment(options.env);
  const redactor = createRedactor({ env: options.env });
  return (request, model) => {
    const toolset = createAgentToolset(toolsForNames(request.agentType.tools), {
      worktree: request.worktree.path,
      runner: options.runner,
      emit: request.emit,
      outputDirectory: join(options.logsDirectory, 'tool-output', request.task.id),
      commandTimeoutMilliseconds: 5 * 60 * 1000,
      allowNetwork: options.sandboxNetwork !== undefined && options.sandboxNetwork.mode !== 'none',
      env: sandboxEnvironment,
      redactor,
      signal: request.signal,
      taskId: request.task.id,
      runId: request.runId,
    });
    return createLoopAgent(
      {
        model,
        provider: options.provider,
        tools: toolset.tools,
        executeTool:
          request.worktreeReady === undefined
            ? toolset.executeTool
            : async (call) => {
                await request.worktreeReady;
                return toolset.executeTool(call);
              },
        price: (pricedModelId, usage) => priceUsage(pricedModelId, usage),
        maxSteps: request.maxSteps,
        retry: request.retry,
        emit: request.emit,
        runId: request.runId,
        taskId: request.task.id,
        ...(request.governor === null
          ? {}
          : {
              budget: createCallBudget(request.governor, {
                taskId: request.task.id,
                agentType: request.task.type,
                maxOutputTokens: MAX_OUTPUT_TOKENS_PER_CALL,
                priceUsage,
              }),
            }),
      },
      buildSystemPrompt(readRolePrompt(request.agentType.id)),
    );
  };
}

/** The scripted model: every agent replays its part of a session (loki run/demo) or one script (loki task run). */
function scriptedAgentSource(options: AgentSourceOptions, loopAgent: LoopAgentFactory): AgentSource {
  const scripted = options.scripted;
  if (scripted === undefined) {
    throw usageError(
      'CLI_MISSING_OPTION',
      'the scripted provider needs --script <file> (a scripted session for loki run, a script for loki task run)',
    );
  }
  const latencyMilliseconds = 'session' in scripted ? scripted.session.latencyMilliseconds : 0;
  const scriptFor = (phase: PlanningPhase): ScriptedScript => {
    if (!('session' in scripted)) {
      throw usageError(
        'SESSION_REQUIRED',
        `${scripted.origin} is a single script; loki run needs a scripted session`,
      );
    }
    if (phase === 'discovery' || phase === 'architecture') return scripted.session[phase];
    if ('review' in phase) return reviewScriptOf(scripted.session, phase.review);
    const growth = scripted.session.growth[phase.growthIteration - 1];
    if (growth === undefined) {
      throw usageError(
        'SESSION_GROWTH_MISSING',
        `the scripted session has ${scripted.session.growth.length} growth iterations; iteration ${phase.growthIteration} has no script`,
      );
    }
    return growth;
  };
  return {
    provider: options.provider,
    runtime: 'scripted',
    description: `scripted model replaying ${scripted.origin} (no real model is called)`,
    runSubmission: (phase, spec, runOptions) =>
      runSubmissionAgent(spec, {
        ...runOptions,
        model: createScriptedLanguageModel(scriptFor(phase), { latencyMilliseconds }),
        provider: options.provider,
      }),
    modelIdFor: () => 'scripted',
    reviewsByDefault: (taskId) => 'session' in scripted && Object.hasOwn(scripted.session.reviews, taskId),
    createTaskAgent: (request) => {
      const script =
        'session' in scripted ? taskScriptOf(scripted.session, request.task.id) : scripted.script;
      return loopAgent(request, createScriptedLanguageModel(script, { latencyMilliseconds }));
    },
  };
}

/** An API model (Anthropic, OpenAI, OpenAI-compatible) under Loki's own tool loop. */
function apiAgentSource(
  options: AgentSourceOptions,
  provider: ApiProviderName,
  loopAgent: LoopAgentFactory,
): AgentSource {
  const modelFor = (tier: ModelTier) =>
    createApiLanguageModel({ provider, tier, env: options.env, modelOverrides: options.modelOverrides })
      .model;
  // Fails now, not in the middle of a run, when the provider's key or settings are missing.
  const defaultModel = modelFor('default');
  return {
    provider,
    runtime: 'api',
    description: `${provider} (${defaultModel.modelId} by default)`,
    runSubmission: (_phase, spec, runOptions) =>
      runSubmissionAgent(spec, { ...runOptions, model: modelFor('planning'), provider }),
    modelIdFor: (tier) => modelFor(tier).modelId,
    createTaskAgent: (request) => loopAgent(request, modelFor(request.tier)),
  };
}
