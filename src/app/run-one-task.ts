import { resolve } from 'node:path';
import { findAgentType } from '../agents/index.ts';
import { BudgetGovernor } from '../budget/index.ts';
import { loadCircuitBreakerConfig } from '../config/index.ts';
import type { NewEvent } from '../events/index.ts';
import { readProjectGates } from '../orchestrator/index.ts';
import { loadScriptedScript } from '../providers/index.ts';
import { type RunSingleTaskResult, runSingleTask, type TaskAgent } from '../runtime/index.ts';
import { buildSandboxEnvironment, detectCommandRunner } from '../sandbox/index.ts';
import { startSandboxNetwork } from './start-sandbox-network.ts';
import {
  configuredModelOverrides,
  createAppAgentSource,
  resolveBudgetCapUsd,
  selectRunProvider,
} from './app-agent-source.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace, resolveAppConfig } from './open-app-workspace.ts';

export interface OneTaskRequest {
  /** What to do, in one line. */
  title: string;
  description?: string;
  agentType: string;
  /** The command that verifies the work; absent: the project's gates (none: not proven). */
  verifyCommand?: string;
  provider?: string;
  /** The scripted model's script, relative to the workspace, with the scripted provider. */
  script?: string;
  /** Hard cap on spend in USD, as typed (`none` = no cap); absent: the configuration's. */
  budget?: string;
  model?: string;
  /** Agent rounds, each ending in a verification, before the task fails. */
  maxAttempts: number;
  /** Model calls per round. */
  maxSteps: number;
  /** Aborting it stops the agent; the result is then `aborted`. */
  signal?: AbortSignal;
}

export interface OneTaskObserver {
  started?(start: { provider: string; model: string; commandRunner: string }): void;
  event?(event: NewEvent): void;
  /** Something the user should know that does not stop the task (a refused network connection). */
  warning?(text: string): void;
}

/**
 * `loki task run`: one agent on the workspace in a fresh worktree; the harness verifies the work
 * and checkpoints it on the task's branch (it is not merged).
 */
export async function runOneTask(
  context: AppContext,
  request: OneTaskRequest,
  observer: OneTaskObserver = {},
): Promise<RunSingleTaskResult> {
  // Unknown agent types fail before anything is written, with close matches suggested.
  const agentType = findAgentType(request.agentType);
  const config = resolveAppConfig(context).values;
  const capUsd = resolveBudgetCapUsd(request.budget, config);
  const governor = capUsd === undefined ? null : new BudgetGovernor({ capUsd });
  const selection = selectRunProvider(context, config, request.provider);
  const scriptPath = request.script === undefined ? undefined : resolve(context.cwd, request.script);
  await using workspace = await openAppWorkspace(context);
  // Without a verify command the project's gates verify the work; with neither it is not proven.
  const projectGates =
    request.verifyCommand === undefined ? readProjectGates(workspace.paths.specsDirectory) : [];
  await using network = await startSandboxNetwork({
    config,
    provider: selection.provider,
    env: context.env,
    warn: (text) => observer.warning?.(text),
  });
  const detection = await detectCommandRunner({ env: context.env, network: network.access });
  const source = createAppAgentSource(context, {
    provider: selection.provider,
    runner: detection.runner,
    sandboxNetwork: network.access,
    logsDirectory: workspace.paths.logsDirectory,
    modelOverrides: configuredModelOverrides(config, request.model),
    ...(selection.provider === 'scripted' && scriptPath !== undefined
      ? { scripted: { script: loadScriptedScript(scriptPath), origin: request.script ?? scriptPath } }
      : {}),
  });
  const modelId = source.modelIdFor('default');
  const signal = request.signal ?? new AbortController().signal;
  observer.started?.({ provider: selection.provider, model: modelId, commandRunner: detection.runner.kind });
  return await runSingleTask({
    workspace,
    config,
    breakerConfig: loadCircuitBreakerConfig(context.cwd),
    clock: context.clock,
    title: request.title,
    ...(request.description === undefined ? {} : { description: request.description }),
    type: request.agentType,
    verifyCommand: request.verifyCommand ?? null,
    projectGates,
    verifyEnvironment: buildSandboxEnvironment(context.env),
    provider: selection.provider,
    runtime: source.runtime,
    modelId,
    runner: detection.runner,
    maxAttempts: request.maxAttempts,
    onEvent: (event) => observer.event?.(event),
    signal,
    createAgent: ({ worktree, task, emit, retry }): TaskAgent =>
      source.createTaskAgent({
        task,
        agentType,
        tier: 'default',
        worktree,
        emit,
        retry,
        runId: null,
        governor,
        signal,
        maxSteps: request.maxSteps,
      }),
  });
}
