import { existsSync } from 'node:fs';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import {
  type AppContext,
  continueRun,
  openAppWorkspace,
  pauseRun,
  readRunReport,
  readStatus,
  startRunInBackground,
  stopRun,
} from '../app/index.ts';
import { isLokiError } from '../errors/index.ts';
import { workspacePaths } from '../workspace/index.ts';
import { toolAnswer } from './tool-answer.ts';

const PROVIDERS = [
  'anthropic',
  'openai',
  'openai-compatible',
  'ollama',
  'claude-code',
  'codex',
  'scripted',
] as const;

const runSettingsShape = {
  provider: z
    .enum(PROVIDERS)
    .optional()
    .describe('the model provider (default: LOKI_PROVIDER, then auto-detected from the keys set)'),
  script: z
    .string()
    .min(1)
    .optional()
    .describe(
      'with provider "scripted": the scripted session file (JSON or YAML), relative to the workspace',
    ),
  parallel: z.int().min(1).max(64).optional().describe('agents working at once'),
  budgetUsd: z.number().positive().optional().describe('hard cap on the run’s model spend, in USD'),
};

type RunSettingsInput = { provider?: string; script?: string; parallel?: number; budgetUsd?: number };

const POLL_HINT = 'Poll the status tool until run.status is completed, failed or stopped; then read_report.';

/** Starting, following and steering the workspace's run. */
export function registerRunTools(server: McpServer, context: AppContext): void {
  server.registerTool(
    'start_run',
    {
      title: 'Start a Loki Mode run',
      description:
        'Start a Loki Mode run on a PRD (Product Requirements Document) in this workspace, in the background: ' +
        'it returns at once with the run id; the run goes on by itself. ' +
        POLL_HINT,
      inputSchema: {
        prd: z.string().min(1).describe('path of the PRD (Markdown or text), relative to the workspace'),
        ...runSettingsShape,
      },
    },
    ({ prd, ...settings }) => toolAnswer(() => startRun(context, prd, settings)),
  );

  server.registerTool(
    'resume_run',
    {
      title: 'Resume the Loki Mode run',
      description:
        'Continue the workspace’s interrupted or stopped run where it stopped, in the background. ' +
        POLL_HINT,
      inputSchema: runSettingsShape,
    },
    (settings) => toolAnswer(() => startRun(context, null, settings)),
  );

  server.registerTool(
    'status',
    {
      title: 'Loki Mode status',
      description:
        'Where the workspace’s run stands: its status and phase, agents at work, queue counts, open breakers, what to do next.',
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    () =>
      toolAnswer(async () => {
        if (!existsSync(workspacePaths(context.cwd).database)) {
          return { summary: `No Loki Mode workspace in ${context.cwd} yet: start_run on a PRD creates it.` };
        }
        const report = await readStatus(context);
        const run = report.run === null ? 'no run yet' : `run ${report.run.id}: ${report.run.status}`;
        return { summary: `${run}; phase ${report.phase}`, data: report };
      }),
  );

  server.registerTool(
    'read_report',
    {
      title: 'Read a Loki Mode run report',
      description:
        'The report a run wrote when it ended (Markdown): outcome, phases, tasks, verification, spend. The latest run’s unless runId is given.',
      inputSchema: { runId: z.string().min(1).optional().describe('a run id, e.g. run-abc123def4') },
      annotations: { readOnlyHint: true },
    },
    ({ runId }) =>
      toolAnswer(async () => {
        const report = await readRunReport(context, runId);
        return { summary: report.markdown };
      }),
  );

  registerControlTools(server, context);
}

async function startRun(
  context: AppContext,
  prdPath: string | null,
  settings: RunSettingsInput,
): Promise<{ summary: string; data: unknown }> {
  const started = await startRunInBackground(context, {
    prdPath,
    flags: {
      ...(settings.provider === undefined ? {} : { provider: settings.provider }),
      ...(settings.script === undefined ? {} : { script: settings.script }),
      ...(settings.parallel === undefined ? {} : { parallel: String(settings.parallel) }),
      ...(settings.budgetUsd === undefined ? {} : { budget: String(settings.budgetUsd) }),
    },
  });
  if (started.runId !== null) {
    return { summary: `Started run ${started.runId} in the background. ${POLL_HINT}`, data: started };
  }
  // It ended before it took the lock (a completed workspace has nothing to do): status says how.
  const report = await readStatus(context);
  const run = report.run === null ? 'no run' : `run ${report.run.id} is ${report.run.status}`;
  return {
    summary: started.isRunning
      ? `The run's process (pid ${started.pid}) has not started its run yet; poll the status tool. Its output: ${started.logFile}`
      : `Nothing was started: ${run}. Its output: ${started.logFile}`,
    data: { ...started, status: report },
  };
}

function registerControlTools(server: McpServer, context: AppContext): void {
  for (const action of ['pause', 'continue'] as const) {
    server.registerTool(
      `${action}_run`,
      {
        title: action === 'pause' ? 'Pause the Loki Mode run' : 'Continue the paused Loki Mode run',
        description:
          action === 'pause'
            ? 'Pause the live run: no new task starts; agents at work finish theirs (continue_run lets it go on).'
            : 'Let a paused live run start tasks again.',
        inputSchema: {},
      },
      () =>
        toolAnswer(async () => {
          await using workspace = await openAppWorkspace(context);
          const steer = action === 'pause' ? pauseRun : continueRun;
          const result = await steer({ workspace, requestedBy: 'mcp' });
          const verb = action === 'pause' ? 'paused' : 'continued';
          return {
            summary: result.isChanged
              ? `Run ${result.runId} ${verb}.`
              : `Run ${result.runId} was already ${action === 'pause' ? 'paused' : 'going on'}.`,
            data: result,
          };
        }),
    );
  }

  server.registerTool(
    'stop_run',
    {
      title: 'Stop the Loki Mode run',
      description:
        'Stop the live run gracefully (agents are signalled, their tasks go back to the queue; resume_run continues it). ' +
        'Waits up to waitSeconds for it to end; if it is still winding down then, poll the status tool.',
      inputSchema: {
        waitSeconds: z.int().min(0).max(600).default(20).describe('how long to wait for the run to end'),
      },
      annotations: { destructiveHint: true },
    },
    ({ waitSeconds }) =>
      toolAnswer(async () => {
        await using workspace = await openAppWorkspace(context);
        try {
          const result = await stopRun({
            workspace,
            requestedBy: 'mcp',
            clock: context.clock,
            timeoutMilliseconds: waitSeconds * 1000,
          });
          const summary = result.stopped
            ? `Run ${result.runId} ended: ${result.status}.`
            : `No run is active in this workspace (${result.reason}).`;
          return { summary, data: result };
        } catch (error) {
          // Asked and still winding down is what a caller that does not wait expects: not a failure.
          if (isLokiError(error) && error.code === 'RUN_STOP_TIMEOUT' && error.context.isRequested === true) {
            return { summary: `Run ${String(error.context.runId)} is stopping; poll the status tool.` };
          }
          throw error;
        }
      }),
  );
}
