import type { LanguageModelV4 } from '@ai-sdk/provider';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { findAgentType, readRolePrompt } from '../../agents/index.ts';
import { BudgetGovernor, createCallBudget, parseBudgetCapUsd } from '../../budget/index.ts';
import { loadCircuitBreakerConfig } from '../../config/index.ts';
import { findExecutable } from '../../doctor/index.ts';
import { usageError } from '../../errors/index.ts';
import type { NewEvent } from '../../events/index.ts';
import {
  createApiLanguageModel,
  createScriptedLanguageModel,
  isApiProviderName,
  loadScriptedScript,
  priceUsage,
  selectProvider,
} from '../../providers/index.ts';
import {
  buildSystemPrompt,
  createClaudeCodeAgent,
  createCodexAgent,
  createLoopAgent,
  MAX_OUTPUT_TOKENS_PER_CALL,
  runSingleTask,
  type TaskAgent,
} from '../../runtime/index.ts';
import {
  buildSandboxEnvironment,
  createRedactor,
  detectCommandRunner,
  wrapInBubblewrap,
} from '../../sandbox/index.ts';
import { createAgentToolset, toolsForNames } from '../../tools/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { openCliWorkspace, resolveCliConfig } from '../open-cli-workspace.ts';
import { sanitizeForTerminal, truncate } from '../terminal-text.ts';

interface TaskRunOptions {
  type: string;
  verify?: string;
  description?: string;
  provider?: string;
  script?: string;
  model?: string;
  budget?: string;
  maxAttempts: string;
  maxSteps: string;
  json?: boolean;
}

function wholeNumber(value: string, option: string, maximum: number): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > maximum) {
    throw usageError(
      'CLI_INVALID_OPTION',
      `${option} must be a whole number from 1 to ${maximum}, got "${value}"`,
    );
  }
  return parsed;
}

export function registerTaskCommands(program: Command, context: CliContext): void {
  const task = program.command('task').description('run one agent on one task');
  task
    .command('run')
    .description(
      'run one agent on the current workspace in a fresh worktree; the harness verifies and checkpoints',
    )
    .argument('<what>', 'what to do, in one line')
    .option('--type <agent-type>', 'agent type', 'eng-backend')
    .option('--verify <command>', 'command the harness runs to verify the work (exit 0 = verified)')
    .option('--description <text>', 'details and acceptance criteria')
    .option(
      '--provider <name>',
      'anthropic | openai | openai-compatible | ollama | claude-code | codex | scripted (default: LOKI_PROVIDER, then auto-detect)',
    )
    .option('--script <file>', "the scripted model's script (JSON or YAML), with --provider scripted")
    .option(
      '--budget <usd>',
      'hard cap on model spend for this task, in USD (default: LOKI_BUDGET_USD; none = no cap)',
    )
    .option('--model <id>', "the model to use instead of the provider's default tier model")
    .option('--max-attempts <n>', 'agent rounds, each ending in a verification, before the task fails', '3')
    .option('--max-steps <n>', 'model calls per round', '50')
    .option('--json', 'print events as NDJSON and a final result object')
    .action(async (what: string, options: TaskRunOptions, command: Command) => {
      // Unknown agent types fail before anything is written, with close matches suggested.
      const agentType = findAgentType(options.type);
      // --budget, else the configured cap (loki.yaml, LOKI_BUDGET_USD, -c budgetUsd=…); 0 means none.
      const config = resolveCliConfig(command, context).values;
      const configuredBudget = config.budgetUsd;
      const capUsd =
        options.budget !== undefined
          ? parseBudgetCapUsd(options.budget)
          : configuredBudget > 0
            ? configuredBudget
            : undefined;
      const governor = capUsd === undefined ? null : new BudgetGovernor({ capUsd });
      const maxAttempts = wholeNumber(options.maxAttempts, '--max-attempts', 20);
      const maxSteps = wholeNumber(options.maxSteps, '--max-steps', 1000);
      // --provider, else the configured provider (loki.yaml, LOKI_PROVIDER, -c provider=…), else auto-detect.
      const providerChoice = options.provider ?? (config.provider === '' ? undefined : config.provider);
      const modelChoice = options.model ?? (config.modelDefault === '' ? undefined : config.modelDefault);
      const selection = selectProvider({
        ...(providerChoice === undefined ? {} : { flag: providerChoice }),
        env: context.env,
        isOnPath: (name: string) => findExecutable(name, context.env.PATH) !== undefined,
      });
      let model: LanguageModelV4 | null = null;
      if (selection.provider === 'scripted') {
        if (options.script === undefined) {
          throw usageError(
            'CLI_MISSING_OPTION',
            'the scripted provider needs --script <file> (a JSON or YAML script of model steps)',
          );
        }
        model = createScriptedLanguageModel(loadScriptedScript(resolve(context.cwd, options.script)));
      } else if (isApiProviderName(selection.provider)) {
        model = createApiLanguageModel({
          provider: selection.provider,
          tier: 'default',
          env: context.env,
          modelOverrides: {
            ...(config.modelPlanning === '' ? {} : { planning: config.modelPlanning }),
            ...(modelChoice === undefined ? {} : { default: modelChoice }),
            ...(config.modelFast === '' ? {} : { fast: config.modelFast }),
          },
        }).model;
      } else if (selection.provider !== 'claude-code' && selection.provider !== 'codex') {
        throw usageError(
          'CLI_UNSUPPORTED_PROVIDER',
          `unknown provider ${selection.provider}; use claude-code, codex, an API provider (anthropic, openai, openai-compatible, ollama) or --provider scripted`,
        );
      }
      const modelId = model?.modelId ?? modelChoice ?? `${selection.provider} default`;
      const systemPrompt = buildSystemPrompt(readRolePrompt(agentType.id));
      const breakerConfig = loadCircuitBreakerConfig(context.cwd);
      await using workspace = await openCliWorkspace(command, context);
      const detection = await detectCommandRunner({ env: context.env });
      const redactor = createRedactor({ env: context.env });
      const bubblewrapPath =
        detection.runner.kind === 'bubblewrap' ? findExecutable('bwrap', context.env.PATH) : undefined;
      const sandboxEnvironment = buildSandboxEnvironment(context.env);
      const controller = new AbortController();
      const interrupt = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', interrupt);
      const progress = (event: NewEvent) => {
        if (options.json === true) {
          context.stdout(`${JSON.stringify(event)}\n`);
          return;
        }
        const line = describeEvent(event);
        if (line !== null) context.stdout(`${sanitizeForTerminal(line)}\n`);
      };
      if (options.json !== true) {
        context.stdout(
          `Running ${options.type} on "${what}" with ${selection.provider} (${modelId}); commands: ${detection.runner.kind}\n`,
        );
      }
      try {
        const result = await runSingleTask({
          workspace,
          config,
          breakerConfig,
          clock: context.clock,
          title: what,
          ...(options.description === undefined ? {} : { description: options.description }),
          type: options.type,
          verifyCommand: options.verify ?? null,
          verifyEnvironment: sandboxEnvironment,
          provider: selection.provider,
          runtime:
            selection.provider === 'claude-code'
              ? 'claude-code'
              : selection.provider === 'scripted'
                ? 'scripted'
                : 'api',
          modelId,
          runner: detection.runner,
          maxAttempts,
          onEvent: progress,
          signal: controller.signal,
          createAgent: ({ worktree, task: claimed, emit, retry }): TaskAgent => {
            if (model === null) {
              // An agent CLI runs its own tools; Loki gives it the worktree, the prompt and its retry policy.
              const cliOptions = {
                worktree: worktree.path,
                systemPrompt,
                ...(modelChoice === undefined ? {} : { model: modelChoice }),
                env: context.env,
                emit,
                runId: null,
                taskId: claimed.id,
                agentType: claimed.type,
                timeoutMilliseconds: claimed.timeoutSeconds * 1000,
                retry,
              };
              return selection.provider === 'codex'
                ? createCodexAgent({ ...cliOptions, sandboxMode: 'workspace-write' })
                : createClaudeCodeAgent({
                    ...cliOptions,
                    // With bubblewrap, Claude Code itself runs sandboxed, so its Bash tool is confined like run_command.
                    ...(bubblewrapPath === undefined
                      ? {}
                      : {
                          wrapInvocation: wrapInBubblewrap({
                            bubblewrapPath,
                            worktree: worktree.path,
                            writablePaths: claudeCodeStatePaths(context.env),
                            pathVariable: context.env.PATH,
                          }),
                        }),
                    permissionMode: 'bypassPermissions',
                    allowedTools: ['Read', 'Write', 'Edit', 'Glob', 'Grep', 'Bash'],
                    maxTurns: maxSteps,
                  });
            }
            // Each agent type gets the tools its catalog entry allows, bound to its worktree.
            const toolset = createAgentToolset(toolsForNames(agentType.tools), {
              worktree: worktree.path,
              runner: detection.runner,
              emit,
              outputDirectory: join(workspace.paths.logsDirectory, 'tool-output', claimed.id),
              commandTimeoutMilliseconds: 5 * 60 * 1000,
              allowNetwork: false,
              env: sandboxEnvironment,
              redactor,
              signal: controller.signal,
              taskId: claimed.id,
              runId: null,
            });
            return createLoopAgent(
              {
                model,
                provider: selection.provider,
                tools: toolset.tools,
                executeTool: toolset.executeTool,
                price: (pricedModelId, usage) => priceUsage(pricedModelId, usage),
                maxSteps,
                retry,
                emit,
                runId: null,
                taskId: claimed.id,
                ...(governor === null
                  ? {}
                  : {
                      budget: createCallBudget(governor, {
                        taskId: claimed.id,
                        agentType: claimed.type,
                        maxOutputTokens: MAX_OUTPUT_TOKENS_PER_CALL,
                        priceUsage,
                      }),
                    }),
              },
              systemPrompt,
            );
          },
        });
        const { cycle } = result;
        if (options.json === true) {
          writeJson(context, {
            taskId: result.task.id,
            outcome: cycle.outcome,
            attempts: cycle.attempts,
            branch: result.worktree.branch,
            checkpointCommit: cycle.checkpointCommit,
            summary: cycle.summary,
            error: cycle.error,
            usage: cycle.usage,
          });
        } else {
          const cost = cycle.usage.isCostKnown
            ? `$${cycle.usage.costUsd.toFixed(4)}`
            : 'unknown (unpriced model)';
          context.stdout(
            cycle.outcome === 'verified'
              ? `Verified after ${cycle.attempts} attempt(s): checkpoint ${cycle.checkpointCommit ?? '(no changes)'} on ${result.worktree.branch}. Cost ${cost}.\n`
              : `Not verified after ${cycle.attempts} attempt(s): ${sanitizeForTerminal(cycle.error ?? cycle.outcome)}. Worktree rolled back. Cost ${cost}.\n`,
          );
        }
        if (cycle.outcome === 'aborted') context.exitCode = 130;
        else if (cycle.outcome !== 'verified') context.exitCode = 3;
      } finally {
        process.removeListener('SIGINT', interrupt);
      }
    });
}

function describeEvent(event: NewEvent): string | null {
  switch (event.type) {
    case 'agent.tool_called':
      return `  → ${event.data.toolName} ${truncate(JSON.stringify(event.data.input), 100)}`;
    case 'agent.tool_result':
      return event.data.isError ? `    ✗ ${truncate(event.data.output.split('\n')[0] ?? '', 120)}` : null;
    case 'agent.retry':
      return `  … retry ${event.data.attempt} in ${Math.round(event.data.delayMilliseconds / 1000)} s (${event.data.reason})`;
    case 'verification.ran':
      return `  verify \`${event.data.command}\`: ${event.data.passed ? 'passed' : `FAILED (exit ${event.data.exitCode ?? '?'})`}`;
    case 'sandbox.refused':
      return `  refused ${event.data.toolName}: ${event.data.reason} (${event.data.detail})`;
    case 'agent.finished':
      return `  agent finished: ${event.data.reason} after ${event.data.steps} steps`;
    default:
      return null;
  }
}

/** Where Claude Code keeps its state: it must stay writable when Claude Code runs sandboxed. */
function claudeCodeStatePaths(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? '';
  return [
    ...(env.CLAUDE_CONFIG_DIR === undefined ? [] : [env.CLAUDE_CONFIG_DIR]),
    ...(home === '' ? [] : [join(home, '.claude'), join(home, '.claude.json')]),
  ];
}
