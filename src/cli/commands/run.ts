import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { BudgetGovernor } from '../../budget/index.ts';
import { randomId } from '../../clock/index.ts';
import { loadCircuitBreakerConfig } from '../../config/index.ts';
import { runDoctor } from '../../doctor/index.ts';
import { ExitCode, LokiError, usageError } from '../../errors/index.ts';
import type { LokiEvent, NewEvent } from '../../events/index.ts';
import { acquireRunLock, RunControlWatch, type RunOutcome, runPipeline } from '../../orchestrator/index.ts';
import { loadScriptedSession } from '../../providers/index.ts';
import { buildSandboxEnvironment, detectCommandRunner } from '../../sandbox/index.ts';
import type { Run, Store } from '../../store/index.ts';
import {
  assertStoreNotLost,
  initWorkspace,
  openWorkspaceStore,
  readPrd,
  toWorkspaceFault,
  type WorkspacePaths,
  workspacePaths,
} from '../../workspace/index.ts';
import { createCliAgentSource, selectCliProvider } from '../cli-agent-source.ts';
import type { CliContext } from '../cli-context.ts';
import { openCliWorkspace, resolveCliConfig } from '../open-cli-workspace.ts';
import {
  describeRunSettings,
  modelOverridesOf,
  resolveRunSettings,
  type RunSettingFlags,
} from '../run-settings.ts';
import { sanitizeForTerminal, truncate } from '../terminal-text.ts';

interface RunFlags extends RunSettingFlags {
  dashboard?: boolean;
  json?: boolean;
}

const RUN_LOCK_FILE = 'run.lock';
const PROJECTION_INTERVAL_MILLISECONDS = 1000;

/** The directory of the bundled examples, next to src/ and dist/ in the package. */
function examplesDirectory(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');
}

function addRunOptions(command: Command): Command {
  return command
    .option(
      '--provider <name>',
      'anthropic | openai | openai-compatible | ollama | scripted (default: LOKI_PROVIDER, then auto-detect)',
    )
    .option('--script <file>', 'the scripted session (JSON or YAML), with --provider scripted')
    .option('--parallel <n>', 'agents working at once (default: LOKI_MAX_PARALLEL_AGENTS)')
    .option('--budget <usd>', 'hard cap on the run’s model spend in USD (default: LOKI_BUDGET_USD)')
    .option(
      '--no-dashboard',
      'do not serve the live dashboard (the dashboard is not built yet: it never starts)',
    )
    .option('--json', 'print every event as NDJSON on stdout, then the outcome')
    .option(
      '--perpetual',
      'after Business, keep improving in Growth iterations until stopped or out of budget',
    )
    .option('--max-iterations <n>', 'with --perpetual: at most this many Growth iterations')
    .option('--max-task-attempts <n>', 'attempts of one task before it is dead-lettered (default: 3)');
}

export function registerRunCommands(program: Command, context: CliContext): void {
  addRunOptions(
    program
      .command('run')
      .description(
        'PRD → built, tested, merged product: Discovery, Architecture, then the task DAG in parallel',
      )
      .argument('<prd>', 'the Product Requirements Document (Markdown or text, UTF-8, at most 5 MB)'),
  ).action(async (prdPath: string, flags: RunFlags, command: Command) => {
    await executeRun(context, command, flags, { prdPath, resumeOnly: false });
  });

  addRunOptions(
    program.command('resume').description('continue the workspace’s interrupted run where it stopped'),
  ).action(async (flags: RunFlags, command: Command) => {
    await executeRun(context, command, flags, { prdPath: null, resumeOnly: true });
  });

  addRunOptions(
    program
      .command('demo')
      .description('the whole pipeline offline on the bundled example PRD, with a scripted model')
      .option('--dir <directory>', 'where to build the demo product (a new or empty directory)'),
  ).action(async (flags: RunFlags & { dir?: string }, command: Command) => {
    const example = join(examplesDirectory(), 'todo-api');
    let directory: string;
    if (flags.dir === undefined) {
      directory = mkdtempSync(join(tmpdir(), 'loki-demo-'));
    } else {
      directory = resolve(context.cwd, flags.dir);
      if (existsSync(directory) && readdirSync(directory).length > 0) {
        throw usageError(
          'DEMO_DIRECTORY_NOT_EMPTY',
          `${directory} is not empty; give loki demo --dir a new or empty directory`,
        );
      }
      mkdirSync(directory, { recursive: true });
    }
    cpSync(join(example, 'prd.md'), join(directory, 'prd.md'));
    const say = (text: string) => {
      if (flags.json !== true) context.stdout(text);
    };
    say(`Loki Mode demo in ${directory}\n`);
    say(
      'The model is SCRIPTED: every agent replays examples/todo-api/session.json; no real model is called and nothing costs money.\n',
    );
    const demoContext: CliContext = { ...context, cwd: directory };
    await executeRun(
      demoContext,
      command,
      {
        ...flags,
        provider: 'scripted',
        script: join(example, 'session.json'),
        parallel: flags.parallel ?? '4',
      },
      { prdPath: 'prd.md', resumeOnly: false },
    );
    context.exitCode = demoContext.exitCode;
    say(`\nThe demo product is in ${directory}. Try: cd ${directory} && npm test && git log --oneline\n`);
  });
}

async function executeRun(
  context: CliContext,
  command: Command,
  flags: RunFlags,
  mode: { prdPath: string | null; resumeOnly: boolean },
): Promise<void> {
  // A bad PRD is refused first, before anything else is read or written.
  if (mode.prdPath !== null) readPrd(mode.prdPath, context.cwd);
  // So is a workspace whose store is lost: a run must never start a new, empty store over a history.
  assertStoreNotLost(workspacePaths(context.cwd));
  const resolvedConfig = resolveCliConfig(command, context);
  const config = resolvedConfig.values;
  // Prerequisites (git, Node) are checked up front unless LOKI_SKIP_PREREQS says not to.
  if (!config.skipPrereqs) {
    const doctor = await runDoctor({ env: context.env });
    const missing = doctor.checks.filter((check) => check.isRequired && check.status !== 'ok');
    if (missing.length > 0) {
      throw usageError(
        'RUN_PREREQUISITES_MISSING',
        `missing prerequisites: ${missing.map((check) => `${check.name} (${check.detail}; fix: ${check.fix ?? 'see loki doctor'})`).join('; ')}. Set LOKI_SKIP_PREREQS=true to run anyway`,
      );
    }
  }

  // The run to continue, if any: its recorded settings are the starting point of this session's.
  const paths = workspacePaths(context.cwd);
  const latest = existsSync(paths.database) ? await readLatestRun(paths, context) : null;
  if (mode.resumeOnly && (latest === null || latest.status === 'completed')) {
    throw usageError(
      'RUN_NOTHING_TO_RESUME',
      latest === null
        ? existsSync(paths.database)
          ? 'this workspace has no run to resume; start one with loki run <prd>'
          : `no Loki workspace in ${context.cwd}; start one with loki run <prd>`
        : `run ${latest.id} already completed; there is nothing to resume`,
    );
  }
  if (latest !== null && latest.status === 'completed') {
    await using workspace = await openCliWorkspace(command, context);
    await workspace.refreshProjections();
    context.stdout(
      `Run ${latest.id} of this workspace already completed; nothing to do. Its report is in .loki/artifacts/reports/${latest.id}.md\n`,
    );
    return;
  }
  const resume = latest !== null;
  const resolved = resolveRunSettings({
    flags,
    config: resolvedConfig,
    recorded: latest?.settings ?? null,
    cwd: context.cwd,
    store: { kind: 'sqlite', location: paths.database },
    selectProvider: (choice) => selectCliProvider(context, config, choice),
  });
  const settings = resolved.settings;
  const session =
    settings.provider === 'scripted' && settings.script !== null
      ? { session: loadScriptedSession(settings.script), origin: settings.script }
      : undefined;

  // Bootstrap: the workspace, git repository and PRD copy (idempotent; a different PRD is refused).
  if (mode.prdPath !== null) {
    await initWorkspace({ root: context.cwd, cwd: context.cwd, clock: context.clock, prdPath: mode.prdPath });
  }
  await using workspace = await openCliWorkspace(command, context);
  const runId = latest?.id ?? randomId('run');
  // Recorded when the run starts, and again when a flag given now changed them.
  const isChanged = JSON.stringify(latest?.settings ?? null) !== JSON.stringify(settings);

  using lock = acquireRunLock(join(paths.stateDirectory, RUN_LOCK_FILE), { runId });
  const detection = await detectCommandRunner({ env: context.env });
  const source = createCliAgentSource(context, {
    provider: resolved.selection.provider,
    runner: detection.runner,
    logsDirectory: paths.logsDirectory,
    modelOverrides: modelOverridesOf(settings),
    ...(session === undefined ? {} : { scripted: session }),
  });
  const capUsd = settings.budgetUsd ?? undefined;
  const parallel = settings.parallel;
  const governor = new BudgetGovernor({ capUsd });
  await chargeEarlierSessions(governor, workspace.store.listEvents(), runId);

  const json = flags.json === true;
  const say = (text: string) => {
    if (!json) context.stdout(sanitizeForTerminal(text));
  };
  say(
    `${resume ? 'Resuming' : 'Starting'} run ${runId} in ${context.cwd}\n` +
      `  settings: ${describeRunSettings(resolved)}\n` +
      `  model: ${source.description}; up to ${parallel} agent${parallel === 1 ? '' : 's'}; commands: ${detection.runner.kind}` +
      `${capUsd === undefined ? '' : `; budget $${capUsd}`}\n`,
  );

  // A stop requested in the store (loki stop from any terminal, the dashboard) or a first Ctrl-C:
  // stop gracefully. Ctrl-C while stopping: leave at once (the next run cleans up).
  const controller = new AbortController();
  let isStopping = false;
  const stopGracefully = () => {
    if (isStopping) return;
    isStopping = true;
    say('\nStopping: agents are signalled and their tasks go back to the queue (Ctrl-C again to force)…\n');
    controller.abort(new Error('stopped by the user'));
  };
  const interrupt = () => {
    if (!isStopping) {
      recordSignalledStop(workspace.store, runId);
      stopGracefully();
    } else {
      context.stderr('loki: forced stop; run loki resume to continue\n');
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  // Pause, continue and stop requests from any process, acted on within a second.
  using control = await RunControlWatch.start({ store: workspace.store, runId, onStop: stopGracefully });

  // Events reach the user from the store, the single source of truth: NDJSON or one line each.
  let lastSequence = (await workspace.store.readSummary()).lastEventSequence;
  let isTailing = false;
  // Projections (queue JSON, STATUS.txt) are rewritten at most once a second while events arrive:
  // enough for a person watching, and cheap for a busy run.
  let projectedAt = 0;
  const tail = async () => {
    if (isTailing) return;
    isTailing = true;
    try {
      const events = await workspace.store.listEvents({ afterSequence: lastSequence });
      if (events.length === 0) return;
      lastSequence = events.at(-1)?.sequence ?? lastSequence;
      for (const event of events) {
        if (json) context.stdout(`${JSON.stringify(event)}\n`);
        else {
          const line = describeRunEvent(event);
          if (line !== null) context.stdout(`${sanitizeForTerminal(line)}\n`);
        }
      }
      if (Date.now() - projectedAt >= PROJECTION_INTERVAL_MILLISECONDS) {
        projectedAt = Date.now();
        await workspace.refreshProjections();
      }
    } finally {
      isTailing = false;
    }
  };
  // Showing progress is for people: when it fails the run goes on (the store records everything),
  // and the user is told once.
  let hasToldTailFailure = false;
  const showProgress = () =>
    tail().catch((error: unknown) => {
      // A full or read-only disk is not a display problem: the run stops with it, in one line.
      const fault = toWorkspaceFault(error, workspace.paths);
      if (fault !== null) {
        if (eventFailure === null) {
          eventFailure = fault;
          controller.abort(fault);
        }
        return;
      }
      if (hasToldTailFailure) return;
      hasToldTailFailure = true;
      const reason = error instanceof Error ? error.message : String(error);
      context.stderr(`loki: cannot show the run's progress (${reason}); it goes on, see loki status\n`);
    });
  const tailer = setInterval(() => void showProgress(), 200);

  // Events are written in order. One that cannot be written stops the run (nothing may happen that
  // the store does not record); the first such failure is the run's error.
  let writes: Promise<unknown> = Promise.resolve();
  let eventFailure: LokiError | null = null;
  const emit = (event: NewEvent) => {
    writes = writes
      .then(() => workspace.store.appendEvent(event))
      .catch((error: unknown) => {
        if (eventFailure !== null) return;
        eventFailure =
          toWorkspaceFault(error, workspace.paths) ?? eventWriteError(event, workspace.store.location, error);
        controller.abort(eventFailure);
      });
  };
  // Online backups of the store while the run goes on, and one when it ends (not after a crash).
  using backups = workspace.scheduleStoreBackups({
    onError: (error) =>
      context.stderr(
        `loki: warning: the store backup failed, the run goes on: ${error instanceof Error ? error.message : String(error)}\n`,
      ),
  });
  let outcome: RunOutcome;
  try {
    outcome = await runPipeline({
      workspace,
      source,
      runner: detection.runner,
      verifyEnvironment: buildSandboxEnvironment(context.env),
      config,
      breakerConfig: loadCircuitBreakerConfig(context.cwd),
      clock: context.clock,
      parallel,
      governor,
      perpetual: settings.perpetual,
      maxIterations: settings.maxIterations,
      runId,
      resume,
      ...(isChanged ? { settings: { settings, given: resolved.given } } : {}),
      signal: controller.signal,
      emit,
      flush: async () => {
        await writes;
      },
      maxTaskAttempts: settings.maxTaskAttempts,
      isPaused: () => control.isPaused,
    });
    await backups.finish();
  } catch (error) {
    // A lost event stopped the run: that is what went wrong, whatever failed after it.
    throw eventFailure ?? error;
  } finally {
    clearInterval(tailer);
    await writes;
    await showProgress();
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    lock.release();
  }
  if (eventFailure !== null) throw eventFailure;
  context.exitCode = outcome.exitCode;
  if (json) {
    context.stdout(`${JSON.stringify({ type: 'run.outcome', ...outcome })}\n`);
    return;
  }
  const budget = await governor.summary();
  say(
    `\n${outcome.status === 'completed' ? 'Completed' : `Ended: ${outcome.status}`} (exit ${outcome.exitCode}): ${outcome.summary}\n` +
      `  spent $${budget.spentUsd.toFixed(4)}${capUsd === undefined ? '' : ` of $${capUsd}`}` +
      `${
        Object.keys(budget.byAgentType ?? {}).length === 0
          ? ''
          : ` (${Object.entries(budget.byAgentType ?? {})
              .map(([type, usd]) => `${type} $${usd.toFixed(4)}`)
              .join(', ')})`
      }\n` +
      `  report: ${outcome.reportMarkdownPath}\n`,
  );
}

/** The workspace's latest run, read before the workspace is opened for the run itself. */
async function readLatestRun(paths: WorkspacePaths, context: CliContext): Promise<Run | null> {
  await using store = await openWorkspaceStore(paths, context.clock);
  return store.getLatestRun();
}

/**
 * Ctrl-C is one more way to request a stop: recorded like `loki stop` (so the run's history says
 * who stopped it). SQLite writes synchronously, so the request lands before what the stop causes.
 * Recording is best effort: the run stops on the signal whether or not the store takes it (the
 * run may not be recorded yet, or the store may be what is failing).
 */
function recordSignalledStop(store: Store, runId: string): void {
  store.requestRunControl(runId, { action: 'stop', requestedBy: 'signal' }).catch(() => undefined);
}

function eventWriteError(event: NewEvent, location: string, cause: unknown): LokiError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new LokiError(
    `could not record event ${event.type} in the store at ${location}: ${reason}. The run stopped; ` +
      'fix the cause (disk full? read-only?) and run loki resume',
    { code: 'EVENT_WRITE_FAILED', category: 'internal', cause },
  );
}

/** A resumed run's cap counts what its earlier sessions spent (the usage events are the record). */
async function chargeEarlierSessions(
  governor: BudgetGovernor,
  events: Promise<LokiEvent[]>,
  runId: string,
): Promise<void> {
  let spentUsd = 0;
  for (const event of await events) {
    if (event.type === 'usage.recorded' && event.runId === runId) spentUsd += event.data.costUsd;
  }
  if (spentUsd <= 0) return;
  const reservation = await governor.reserve({ taskId: 'earlier-sessions', estimatedCostUsd: 0 });
  await governor.settle(reservation, spentUsd, { isPriceKnown: true });
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
      return event.data.requestedBy === 'signal' ? null : `■ stop requested (by ${event.data.requestedBy})`;
    case 'workers.limited':
      return `  workers: ${event.data.limit} of ${event.data.requested}${event.data.reason === null ? '' : ` (${event.data.reason})`}`;
    case 'verification.ran':
      return event.taskId === null
        ? `  verify main: \`${truncate(event.data.command, 100)}\` ${event.data.passed ? 'passed' : `FAILED (exit ${event.data.exitCode ?? '?'})`}`
        : null;
    default:
      return null;
  }
}
