import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findAgentType } from '../src/agents/index.ts';
import {
  type ArchitectureDocument,
  DELIVERY_PHASES,
  phaseOfTask,
  type PlannedTask,
  SUBMIT_ARCHITECTURE_TOOL,
  SUBMIT_REQUIREMENTS_TOOL,
  validateArchitecture,
  validateRequirements,
} from '../src/planning/index.ts';
import { loadScriptedSession, type ScriptedScript } from '../src/providers/index.ts';
import {
  buildSandboxEnvironment,
  type CommandRunner,
  detectCommandRunner,
  PlainRunner,
} from '../src/sandbox/index.ts';
import { ALL_TOOLS } from '../src/tools/index.ts';
import { REPOSITORY_ROOT, TempWorkspace } from './support/cli-harness.ts';

const SESSION_FILE = join(REPOSITORY_ROOT, 'examples', 'todo-api', 'session.json');
const COMMAND_TIMEOUT_MILLISECONDS = 60_000;
const BOOT_DEADLINE_MILLISECONDS = 10_000;

const session = loadScriptedSession(SESSION_FILE);

function toolCallsOf(script: ScriptedScript, toolName: string) {
  return script.steps.flatMap((step) => step.toolCalls).filter((call) => call.toolName === toolName);
}

const requirementsCalls = toolCallsOf(session.discovery, SUBMIT_REQUIREMENTS_TOOL);
const architectureCalls = toolCallsOf(session.architecture, SUBMIT_ARCHITECTURE_TOOL);
const requirements = validateRequirements(requirementsCalls[0]?.input);
const architecture = requirements.ok
  ? validateArchitecture(architectureCalls[0]?.input, requirements.requirements.requirements)
  : undefined;

/** The validated architecture; fails the calling test (not the file) when it is invalid. */
function plannedArchitecture(): ArchitectureDocument {
  if (architecture?.ok !== true) {
    throw new Error("the session's architecture is invalid; see the validation test");
  }
  return architecture.architecture;
}

function scriptOf(taskId: string): ScriptedScript {
  const script = session.tasks[taskId];
  if (script === undefined) throw new Error(`the session has no script for task ${taskId}`);
  return script;
}

function writtenFiles(taskId: string): Array<{ path: string; content: string }> {
  return scriptOf(taskId)
    .steps.flatMap((step) => step.toolCalls)
    .filter((call) => call.toolName === 'write_file')
    .map((call) => ({ path: String(call.input.path), content: String(call.input.content) }));
}

/** Phases in order, and within a phase every task after its dependencies: one order a run may take. */
function executionOrder(tasks: readonly PlannedTask[]): PlannedTask[] {
  const ordered: PlannedTask[] = [];
  const done = new Set<string>();
  for (const phase of DELIVERY_PHASES) {
    const pending = tasks.filter((task) => phaseOfTask(task) === phase);
    while (pending.length > 0) {
      const index = pending.findIndex((task) =>
        task.dependencies.every((dependency) => done.has(dependency)),
      );
      if (index === -1) {
        throw new Error(`no task of ${phase} can start: ${pending.map((task) => task.id).join(', ')}`);
      }
      const [task] = pending.splice(index, 1);
      if (task === undefined) continue;
      ordered.push(task);
      done.add(task.id);
    }
  }
  return ordered;
}

/** Every task each task waits for, directly or through others. */
function ancestorsById(tasks: readonly PlannedTask[]): Map<string, Set<string>> {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const ancestors = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const known = ancestors.get(id);
    if (known !== undefined) return known;
    const found = new Set<string>();
    for (const dependency of byId.get(id)?.dependencies ?? []) {
      found.add(dependency);
      for (const ancestor of visit(dependency)) found.add(ancestor);
    }
    ancestors.set(id, found);
    return found;
  };
  for (const task of tasks) visit(task.id);
  return ancestors;
}

/**
 * Runs a command the way the harness runs verify commands: `/bin/sh -c` in the worktree, through
 * the command runner Loki would pick here (bubblewrap when it works: read-only root, private /tmp,
 * loopback only), with a built environment.
 */
async function expectCommandToPass(
  runner: CommandRunner,
  command: string,
  directory: string,
  env: Readonly<Record<string, string>>,
  label: string,
): Promise<void> {
  const result = await runner.run({
    command,
    cwd: directory,
    writableDirectory: directory,
    timeoutMilliseconds: COMMAND_TIMEOUT_MILLISECONDS,
    env,
    allowNetwork: false,
    maxOutputBytes: 64 * 1024,
  });
  expect(
    result.exitCode,
    `${label}: \`${command}\` (${runner.kind}) failed:\n${result.stdout}${result.stderr}`,
  ).toBe(0);
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch (error) {
    // The group is already gone: nothing left to stop.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Polls `url` until it answers, or gives up at the deadline with the last error. */
async function getWhenReady(url: string, deadline: number): Promise<Response> {
  for (;;) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(1_000) });
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${url} did not answer before the deadline`, { cause: error });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Writes every task's files in execution order, running each task's verifyCommands after its files. */
async function buildProduct(
  runner: CommandRunner,
  workspace: TempWorkspace,
  env: Readonly<Record<string, string>>,
): Promise<void> {
  for (const task of executionOrder(plannedArchitecture().tasks)) {
    for (const file of writtenFiles(task.id)) {
      const target = join(workspace.root, file.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.content);
    }
    for (const command of task.verifyCommands) {
      await expectCommandToPass(runner, command, workspace.root, env, `task ${task.id}`);
    }
  }
}

describe('the loki demo session (examples/todo-api/session.json)', () => {
  let runner: CommandRunner;

  beforeAll(async () => {
    runner = (await detectCommandRunner({ env: process.env })).runner;
  });

  it('is what scripts/build-demo-session.ts builds from plan.yaml and product/', async () => {
    await expectCommandToPass(
      new PlainRunner(),
      `"${process.execPath}" scripts/build-demo-session.ts --check`,
      REPOSITORY_ROOT,
      buildSandboxEnvironment(process.env),
      'generator',
    );
  });

  it('submits requirements and an architecture, once each, that the planning phases accept', () => {
    expect(requirementsCalls).toHaveLength(1);
    expect(architectureCalls).toHaveLength(1);
    expect(requirements.ok ? [] : requirements.errors).toEqual([]);
    expect(architecture?.ok === false ? architecture.errors : []).toEqual([]);
    expect(architecture?.ok).toBe(true);
    expect(session.latencyMilliseconds).toBe(200);
  });

  it('has a script for every planned task, ending in task_complete and using only the tools its agent may', () => {
    const { tasks } = plannedArchitecture();
    expect(Object.keys(session.tasks).sort()).toEqual(tasks.map((task) => task.id).sort());
    for (const task of tasks) {
      const calls = scriptOf(task.id).steps.flatMap((step) => step.toolCalls);
      expect(calls.at(-1)?.toolName, `last tool call of ${task.id}`).toBe('task_complete');
      const allowedTools = findAgentType(task.agentType).tools;
      for (const call of calls) {
        expect(allowedTools, `${task.id} (${task.agentType}) calls ${call.toolName}`).toContain(
          call.toolName,
        );
        const inputSchema = ALL_TOOLS.find((tool) => tool.name === call.toolName)?.inputSchema;
        expect(
          inputSchema?.safeParse(call.input).error,
          `${call.toolName} input in ${task.id}`,
        ).toBeUndefined();
      }
      expect(
        writtenFiles(task.id)
          .map((file) => file.path)
          .sort(),
      ).toEqual([...task.touches].sort());
    }
  });

  it('lets tasks that may run at the same time write disjoint files, with at least three in parallel in development', () => {
    const { tasks } = plannedArchitecture();
    const ancestors = ancestorsById(tasks);
    const isOrdered = (left: PlannedTask, right: PlannedTask) =>
      (ancestors.get(left.id)?.has(right.id) ?? false) || (ancestors.get(right.id)?.has(left.id) ?? false);
    const mayRunTogether = (left: PlannedTask, right: PlannedTask) =>
      left.id !== right.id && phaseOfTask(left) === phaseOfTask(right) && !isOrdered(left, right);

    for (const left of tasks) {
      const leftPaths = new Set(writtenFiles(left.id).map((file) => file.path));
      for (const right of tasks.filter((other) => mayRunTogether(left, other))) {
        const shared = writtenFiles(right.id).filter((file) => leftPaths.has(file.path));
        expect(
          shared.map((file) => file.path),
          `${left.id} and ${right.id} may run together`,
        ).toEqual([]);
      }
    }

    const development = tasks.filter((task) => phaseOfTask(task) === 'development');
    const independentTriples = development.flatMap((first, firstIndex) =>
      development.slice(firstIndex + 1).flatMap((second, secondIndex) =>
        development
          .slice(firstIndex + secondIndex + 2)
          .filter(
            (third) =>
              mayRunTogether(first, second) && mayRunTogether(first, third) && mayRunTogether(second, third),
          )
          .map((third) => [first.id, second.id, third.id]),
      ),
    );
    expect(independentTriples.length, 'development tasks that can run at the same time').toBeGreaterThan(0);
  });

  it('builds a product whose tasks, gates and health check pass', async () => {
    using workspace = new TempWorkspace('loki-demo-');
    const env = buildSandboxEnvironment(workspace.env);
    await buildProduct(runner, workspace, env);
    const { verifyCommands, deployment } = plannedArchitecture();
    for (const command of verifyCommands) {
      await expectCommandToPass(runner, command, workspace.root, env, 'project gate');
    }

    if (deployment === null) throw new Error('the demo product is a service: it needs a deployment');
    const port = await freePort();
    const server = spawn('/bin/sh', ['-c', deployment.startCommand], {
      cwd: workspace.root,
      env: { ...env, PORT: String(port) },
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => server.on('close', resolve));
    try {
      const response = await getWhenReady(
        `http://127.0.0.1:${port}${deployment.healthPath}`,
        Date.now() + BOOT_DEADLINE_MILLISECONDS,
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    } finally {
      killGroup(server.pid);
      await exited;
    }
  });

  // CI machines may have only Node 20 inside the sandbox; the product promises to work there too.
  it.skipIf(!existsSync('/usr/bin/node'))(
    'builds a product whose gates also pass on /usr/bin/node',
    async () => {
      using workspace = new TempWorkspace('loki-demo-system-node-');
      const env = buildSandboxEnvironment(workspace.env, {
        overrides: { PATH: `/usr/bin:${workspace.env.PATH ?? ''}` },
      });
      await buildProduct(runner, workspace, env);
      for (const command of plannedArchitecture().verifyCommands) {
        await expectCommandToPass(runner, command, workspace.root, env, 'project gate on /usr/bin/node');
      }
    },
  );
});
