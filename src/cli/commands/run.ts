import type { Command } from 'commander';
import type { RunResult, RunSettingFlags, RunStart } from '../../app/index.ts';
import { ExitCode } from '../../errors/index.ts';
import type { LokiEvent } from '../../events/index.ts';
import { EventsAppendedNotifier } from '../../store/events-appended-notifier.ts';
import type { CliContext } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import type { DeploymentResult } from '../../deploy/index.ts';
import type { RunPanel } from '../panel/index.ts';
import { describeSecretFiles, sanitizeForTerminal, truncate } from '../terminal-text.ts';

const STOPPING =
  'Stopping: agents are signalled and their tasks go back to the queue (Ctrl-C again to force)…';

interface RunFlags extends RunSettingFlags {
  repo?: string;
  dashboard?: boolean;
  port?: string;
  json?: boolean;
}

function addRunOptions(command: Command): Command {
  return (
    command
      .option(
        '--provider <name>',
        'anthropic | openai | openai-compatible | ollama | claude-code | codex | scripted (default: LOKI_PROVIDER, then auto-detect)',
      )
      .option('--script <file>', 'the scripted session (JSON or YAML), with --provider scripted')
      .option(
        '--parallel <n>',
        'agents working at once in this process (default: LOKI_MAX_PARALLEL_AGENTS); 0 with --repo: none, loki worker processes do the tasks',
      )
      .option('--budget <usd>', 'hard cap on the run’s model spend in USD (default: LOKI_BUDGET_USD)')
      .option('--no-dashboard', 'do not serve the live dashboard')
      // Both forms, so that neither given leaves it undefined: a resumed run keeps what it recorded.
      .option(
        '--deploy',
        'deploy at the end of the Deployment phase (default; resumes a --no-deploy run with it)',
      )
      .option('--no-deploy', 'do not deploy main at the end of the Deployment phase (kept on loki resume)')
      .option(
        '--port <n>',
        'the dashboard’s port on 127.0.0.1 (default: LOKI_DASHBOARD_PORT, then 57374; 0: any free port)',
      )
      .option('--json', 'print every event as NDJSON on stdout, then the outcome')
      .option(
        '--perpetual',
        'after Business, keep improving in Growth iterations until stopped or out of budget',
      )
      .option('--max-iterations <n>', 'with --perpetual: at most this many Growth iterations')
      .option('--max-task-attempts <n>', 'attempts of one task before it is dead-lettered (default: 3)')
  );
}

/** `loki run` and `loki resume` can coordinate a distributed run; `loki demo` cannot. */
function addRepoOption(command: Command): Command {
  return command.option(
    '--repo <git-url>',
    'share the run with loki worker processes on other machines through this git remote (needs --store postgres://…; run in a clone of it): this process merges and pushes main',
  );
}

export function registerRunCommands(program: Command, context: CliContext): void {
  addRunOptions(
    addRepoOption(program.command('run'))
      .description(
        'PRD → built, tested, merged product: Discovery, Architecture, then the task DAG in parallel',
      )
      .argument('<prd>', 'the Product Requirements Document (Markdown or text, UTF-8, at most 5 MB)'),
  ).action(async (prdPath: string, flags: RunFlags, command: Command) => {
    await executeRun(context, command, flags, prdPath);
  });

  addRunOptions(
    addRepoOption(
      program.command('resume').description('continue the workspace’s interrupted run where it stopped'),
    ),
  ).action(async (flags: RunFlags, command: Command) => {
    await executeRun(context, command, flags, null);
  });

  addRunOptions(
    program
      .command('demo')
      .description('the whole pipeline offline on the bundled example PRD, with a scripted model')
      .option('--dir <directory>', 'where to build the demo product (a new or empty directory)'),
  ).action(async (flags: RunFlags & { dir?: string }, command: Command) => {
    const { prepareDemo } = await import('../../app/prepare-demo.ts');
    const demo = prepareDemo({
      cwd: context.cwd,
      ...(flags.dir === undefined ? {} : { directory: flags.dir }),
    });
    const directory = demo.directory;
    const say = (text: string) => {
      if (flags.json !== true) context.stdout(text);
    };
    say(`Loki Mode demo in ${directory}\n`);
    say(
      'The model is SCRIPTED: every agent replays examples/todo-api/session.json; no real model is called and nothing costs money.\n',
    );
    const demoContext: CliContext = { ...context, cwd: directory };
    const liveUrl = await executeRun(
      demoContext,
      command,
      {
        ...flags,
        provider: 'scripted',
        script: demo.scriptPath,
        parallel: flags.parallel ?? '4',
      },
      demo.prdPath,
    );
    context.exitCode = demoContext.exitCode;
    say(`\nThe demo product is in ${directory}. Try: cd ${directory} && npm test && git log --oneline\n`);
    if (liveUrl !== null) say(`It is served at ${liveUrl} (cd ${directory} && loki deploy stop ends it).\n`);
  });
}

async function executeRun(
  context: CliContext,
  command: Command,
  flags: RunFlags,
  prdPath: string | null,
): Promise<string | null> {
  const { runWorkspace } = await import('../../app/run-workspace.ts');
  const { describeBusyPort, resolveDashboardPort, startDashboard, writeDashboardRecord } =
    await import('../../dashboard/server/index.ts');
  const { paintFor, RunPanel } = await import('../panel/index.ts');
  const json = flags.json === true;
  // On a terminal (and not --json) the run's lines scroll above a live panel; else plain lines.
  let panel: RunPanel | null = null;
  const say = (text: string) => {
    if (json) return;
    if (panel !== null) panel.print(text);
    else context.stdout(sanitizeForTerminal(text));
  };
  // Ctrl-C once: a stop request like loki stop's (recorded in the store by the run); Ctrl-C while
  // the run stops, whoever asked: leave at once (the next run cleans up).
  const stop = new AbortController();
  let isStopping = false;
  const interrupt = () => {
    if (!isStopping) {
      isStopping = true;
      say(`\n${STOPPING}\n`);
      stop.abort(new Error('stopped by the user'));
    } else {
      panel?.close();
      context.stderr('loki: forced stop; run loki resume to continue\n');
      process.exit(ExitCode.interrupted);
    }
  };
  // The run's store opens later: its commits reach the dashboard's event streams through this.
  const commits = new EventsAppendedNotifier();
  // A busy port the user chose stops the run before it starts; the default port, busy with another
  // project's run on this machine, gives way to a free one (the address is printed either way).
  const port =
    flags.dashboard === false ? null : resolveDashboardPort(flags.port, appContextOf(command, context));
  const dashboard =
    port === null
      ? null
      : await startDashboard({
          context: appContextOf(command, context),
          port: port.port,
          whenPortBusy: port.isChosen ? 'refuse' : 'use a free port',
          commits: { onEventsAppended: (listener) => commits.add(listener) },
        });
  let forgetDashboard = () => {};
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  let result: RunResult;
  if (!json && context.terminal !== undefined) {
    panel = new RunPanel({
      write: context.stdout,
      terminal: context.terminal,
      clock: context.clock,
      paint: paintFor(context.env, true),
    });
  }
  const warn = (text: string) => {
    const write = () => context.stderr(`loki: warning: ${text}\n`);
    if (panel !== null) panel.aside(write);
    else write();
  };
  try {
    result = await runWorkspace(
      appContextOf(command, context),
      {
        prdPath,
        flags,
        stopSignal: stop.signal,
        ...(flags.repo === undefined ? {} : { repoUrl: flags.repo }),
      },
      {
        started: (start) => {
          panel?.started(start);
          say(describeRunStart(start));
          if (dashboard === null) return;
          // In --json mode stdout is NDJSON only: the address goes to stderr.
          (json ? context.stderr : say)(`  dashboard: ${dashboard.url}\n`);
          if (dashboard.busyPort !== null) warn(describeBusyPort(dashboard.busyPort));
          forgetDashboard = writeDashboardRecord(context.env, {
            url: dashboard.url,
            pid: process.pid,
            root: context.cwd,
          });
        },
        event: (event) => {
          if (event.type === 'run.stop_requested') isStopping = true;
          if (json) context.stdout(`${JSON.stringify(event)}\n`);
          else {
            panel?.event(event);
            const line = describeRunEvent(event);
            if (line !== null) say(`${line}\n`);
          }
        },
        committed: (events) => commits.notify(events),
        progress: (progress) => panel?.progress(progress),
        warning: warn,
        waiting: (text) => (json ? context.stderr(`loki: ${text}`) : say(text)),
      },
    );
  } finally {
    panel?.close();
    panel = null;
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    forgetDashboard();
    await dashboard?.close();
  }
  if (result.kind === 'already_completed') {
    context.stdout(
      `Run ${result.runId} of this workspace already completed; nothing to do. Its report is in .loki/artifacts/reports/${result.runId}.md\n`,
    );
    return null;
  }
  const liveUrl = result.outcome.deployment?.status === 'live' ? result.outcome.deployment.url : null;
  const { outcome, budget } = result;
  context.exitCode = outcome.exitCode;
  if (json) {
    context.stdout(`${JSON.stringify({ type: 'run.outcome', ...outcome })}\n`);
    return liveUrl;
  }
  const capUsd = budget.capUsd;
  const byType = Object.entries(budget.byAgentType ?? {});
  say(
    `\n${outcome.status === 'completed' ? 'Completed' : `Ended: ${outcome.status}`} (exit ${outcome.exitCode}): ${outcome.summary}\n` +
      `  spent $${budget.spentUsd.toFixed(4)}${capUsd === undefined ? '' : ` of $${capUsd}`}` +
      `${byType.length === 0 ? '' : ` (${byType.map(([type, usd]) => `${type} $${usd.toFixed(4)}`).join(', ')})`}\n` +
      `  ${outcome.headline}; report: ${outcome.reportMarkdownPath} (and ${outcome.reportHtmlPath})\n` +
      describeReviewFindings(outcome.reviewFindings) +
      describeDeployment(outcome.deployment),
  );
  return liveUrl;
}

/** One line per review finding: its severity, task and what became of it (the report has the rest). */
function describeReviewFindings(
  findings: readonly {
    severity: string;
    taskId: string;
    reviewer: string;
    resolution: string;
    isResolved: boolean;
  }[],
): string {
  if (findings.length === 0) return '';
  // Task ids and file paths were written by models: shown only as plain text.
  const lines = findings.map(
    (finding) =>
      `    ${sanitizeForTerminal(`${finding.severity} (${finding.taskId}, ${finding.reviewer}): ${finding.resolution}`).replace(/\s+/g, ' ')}\n`,
  );
  const open = findings.filter((finding) => !finding.isResolved).length;
  return `  review: ${findings.length} finding(s), ${open === 0 ? 'all resolved' : `${open} open`}\n${lines.join('')}`;
}

function describeRunStart(start: RunStart): string {
  const { parallel, capUsd } = start;
  return (
    `${start.isResume ? 'Resuming' : 'Starting'} run ${start.runId} in ${start.root}\n` +
    `  settings: ${start.settings}\n` +
    `  model: ${start.model}; ${parallel === 0 ? 'no agents here (--parallel 0): loki worker processes do the tasks' : `up to ${parallel} agent${parallel === 1 ? '' : 's'}`}; commands: ${start.commandRunner}` +
    `${capUsd === null ? '' : `; budget $${capUsd}`}\n`
  );
}

function describeRunEvent(event: LokiEvent): string | null {
  switch (event.type) {
    case 'phase.entered':
      return `▶ ${event.data.phase}`;
    case 'phase.exited':
      return `  ${event.data.outcome === 'passed' ? '✓' : '✗'} ${event.data.phase}: ${truncate(event.data.details, 200)}`;
    case 'task.claimed':
      return `  … ${event.taskId ?? ''} started (attempt ${event.data.attempt})`;
    case 'merge.completed':
      return `  ✓ ${event.taskId ?? ''} merged as ${event.data.commit.slice(0, 10)}`;
    case 'merge.rejected':
      return `  ↺ ${event.taskId ?? ''}: ${truncate(event.data.details, 120)} → resolution task ${event.data.resolutionTaskId}`;
    case 'task.failed':
      return `  ✗ ${event.taskId ?? ''} failed: ${truncate(event.data.error.split('\n')[0] ?? '', 160)}`;
    case 'task.released':
      return event.data.availableAt === undefined
        ? null
        : `  ⏸ ${event.taskId ?? ''} waits ${Math.max(0, Math.ceil((event.data.availableAt - event.createdAt) / 1000))} s: ${truncate(event.data.reason, 160)}`;
    case 'task.abandoned':
      return `  ✗ ${event.taskId ?? ''}: ${truncate(event.data.reason, 200)}`;
    case 'task.dead_lettered':
      return `  ✗ ${event.taskId ?? ''} dead-lettered: ${truncate(event.data.error.split('\n')[0] ?? '', 160)}`;
    case 'run.paused':
      return `⏸ paused (requested by ${event.data.requestedBy}): no new task starts until loki continue`;
    case 'run.continued':
      return event.data.requestedBy === 'resume'
        ? null
        : `▶ continued (requested by ${event.data.requestedBy}): tasks start again`;
    case 'run.stop_requested':
      // Ctrl-C in this terminal says so already ("Stopping…").
      return event.data.requestedBy === 'signal'
        ? null
        : `■ stop requested (by ${event.data.requestedBy}). ${STOPPING}`;
    case 'workers.limited':
      return `  workers: ${event.data.limit} of ${event.data.requested}${event.data.reason === null ? '' : ` (${event.data.reason})`}`;
    case 'secret.found':
      return `  ✗ ${event.taskId ?? ''}: secrets in the work, sent back to the agent: ${describeSecretFiles(event.data.files)}`;
    case 'acceptance.tampered':
      return `  ✗ ${event.taskId ?? ''}: sealed acceptance tests changed, sent back to the agent: ${event.data.changes.map((change) => `${change.path} (${change.kind.replace('_', ' ')})`).join(', ')}`;
    case 'verification.ran':
      return event.taskId === null
        ? `  verify main: \`${truncate(event.data.command, 100)}\` ${event.data.passed ? 'passed' : `FAILED (exit ${event.data.exitCode ?? '?'})`}`
        : null;
    case 'gate.evaluated':
      return describeGateEvent(event.data);
    default:
      return null;
  }
}

/**
 * Main's gates at QA and Deployment, one line each; on merges only a gate that refused one (the
 * merge.rejected line follows), since every merge judges several gates.
 */
function describeGateEvent(data: Extract<LokiEvent, { type: 'gate.evaluated' }>['data']): string | null {
  const verdict = data.verdict === 'fail' ? (data.blocks ? 'FAILED' : 'failed (not blocking)') : data.verdict;
  if (data.stage === 'merge')
    return data.blocks ? `  ✗ gate ${data.gate} on the merge result: ${truncate(data.reason, 140)}` : null;
  return `  gate ${data.gate}: ${verdict}: ${truncate(data.reason, 140)}`;
}

/** The release the run put live (or why not), for the run's last lines. */
function describeDeployment(deployment: DeploymentResult | null): string {
  if (deployment === null) return '';
  if (deployment.status === 'live') {
    // Only what runs on this machine (the local target, containers) is Loki's to stop.
    const stop = ['local', 'container'].includes(deployment.target) ? '; loki deploy stop ends it' : '';
    return `  live: ${deployment.url ?? '-'} (release ${deployment.version} on ${deployment.target}${stop})\n`;
  }
  return `  not deployed: ${deployment.version} ${deployment.status}: ${deployment.reason ?? ''}\n`;
}
