import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../src/orchestrator/index.ts';
import { buildSession } from '../src/bench/generated-session.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { anthropicFaults, startFakeAnthropicServer } from './fakes/fake-anthropic-server.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { lowestWorkerLimit, mostTasksHeldAtOnce } from './support/concurrency.ts';
import { watchForEntry } from './support/watch-entries.ts';
import {
  extraWorktrees,
  git,
  mergedTaskIds,
  prepareRun,
  readEvents,
  readJsonFile,
  reportFiles,
  startLoki,
  TEST_PRD,
} from './support/run-harness.ts';

const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });

function onlyReport(root: string): RunReport {
  const json = reportFiles(root).filter((name) => name.endsWith('.json'));
  expect(json).toHaveLength(1);
  return readJsonFile<RunReport>(join(root, '.loki', 'artifacts', 'reports', json[0] ?? ''));
}

/** A run of `ids` (one file each) stopped with Ctrl-C once its first task merged: its args and how it ended. */
async function runStoppedAfterAMerge(workspace: TempWorkspace, ids: readonly string[], parallel: number) {
  const args = prepareRun(
    workspace,
    { tasks: ids.map((id) => ({ id, files: files(id) })), latencyMilliseconds: 300 },
    parallel,
  );
  const first = startLoki(workspace, ['run', 'prd.md', ...args]);
  await first.waitForOutput(/merged as/);
  first.child.kill('SIGINT');
  return { args, stopped: await first.done };
}

describe('loki run', () => {
  it('plans, runs the DAG in parallel, merges one checkpoint per task, verifies main and writes the report', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, {
      tasks: [
        { id: 'alpha', files: files('alpha') },
        { id: 'beta', files: files('beta') },
        { id: 'gamma', files: files('gamma') },
        { id: 'delta', files: files('delta'), dependencies: ['alpha', 'beta'] },
        { id: 'check', files: files('check'), phase: 'qa', agentType: 'eng-qa' },
      ],
      verifyCommands: ['test -f files/alpha.txt && test -f files/delta.txt'],
      latencyMilliseconds: 50,
    });
    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);

    const events = readEvents(result.stdout);
    const phases = events.filter((event) => event.type === 'phase.entered').map((event) => event.data.phase);
    expect(phases).toEqual([
      'bootstrap',
      'discovery',
      'architecture',
      'infrastructure',
      'development',
      'qa',
      'deployment',
      'business',
    ]);
    expect(
      events
        .filter((event) => event.type === 'phase.exited')
        .every((event) => event.data.outcome === 'passed'),
    ).toBe(true);
    // delta waited for both of its dependencies to be merged.
    const mergedAt = (id: string) =>
      events.findIndex((event) => event.type === 'merge.completed' && event.taskId === id);
    const claimedAt = (id: string) =>
      events.findIndex((event) => event.type === 'task.claimed' && event.taskId === id);
    expect(claimedAt('delta')).toBeGreaterThan(mergedAt('alpha'));
    expect(claimedAt('delta')).toBeGreaterThan(mergedAt('beta'));

    expect(mergedTaskIds(workspace.root).sort()).toEqual(['alpha', 'beta', 'check', 'delta', 'gamma']);
    const subjects = git(workspace.root, ['log', 'main', '--format=%s']).split('\n');
    expect(subjects).toContain('[Loki] eng-qa-check: Write check');
    expect(readFileSync(join(workspace.root, 'files/delta.txt'), 'utf8')).toBe('content of delta\n');
    expect(extraWorktrees(workspace.root)).toEqual([]);
    expect(existsSync(join(workspace.root, '.loki', 'worktrees'))).toBe(false);

    const completed = readFileSync(join(workspace.root, '.loki', 'queue', 'completed.json'), 'utf8');
    for (const id of ['alpha', 'beta', 'gamma', 'delta', 'check']) expect(completed).toContain(`"${id}"`);
    const report = onlyReport(workspace.root);
    expect(report.status).toBe('completed');
    expect(report.requirements.every((requirement) => requirement.proven)).toBe(true);
    expect(report.tasks.find((task) => task.id === 'delta')?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(report.mainVerification?.gates[0]?.passed).toBe(true);
    for (const name of ['requirements.json', 'requirements.md', 'architecture.json', 'architecture.md']) {
      expect(existsSync(join(workspace.root, '.loki', 'specs', name)), name).toBe(true);
    }

    // Running it again does not redo anything.
    const again = await loki(workspace, ['run', 'prd.md', ...args]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('already completed');
    expect(mergedTaskIds(workspace.root)).toHaveLength(5);
  }, 60_000);

  it('turns a merge conflict into a resolution task whose work reaches main', async () => {
    using workspace = new TempWorkspace();
    const resolved = 'left line\nright line\n';
    const resolution = (id: string) => ({
      id: `${id}-fix`,
      files: {},
      steps: [
        { toolCalls: [{ toolName: 'write_file', input: { path: 'shared.txt', content: resolved } }] },
        {
          toolCalls: [
            {
              toolName: 'task_complete',
              input: { summary: 'kept both lines', files_changed: ['shared.txt'], tests_run: [] },
            },
          ],
        },
      ],
    });
    const args = prepareRun(workspace, {
      tasks: [
        { id: 'left', files: { 'shared.txt': 'left line\n' } },
        { id: 'right', files: { 'shared.txt': 'right line\n' } },
      ],
      latencyMilliseconds: 20,
    });
    // The resolution scripts: whichever of the two merges second conflicts and is resolved.
    const sessionPath = join(workspace.root, 'session.json');
    const session = readJsonFile<{ tasks: Record<string, unknown> }>(sessionPath);
    for (const id of ['left', 'right']) session.tasks[`${id}-fix`] = resolution(id).steps;
    writeFileSync(sessionPath, JSON.stringify(session));

    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    const events = readEvents(result.stdout);
    const rejected = events.filter((event) => event.type === 'merge.rejected');
    expect(rejected).toHaveLength(1);
    const loser = rejected[0]?.taskId ?? '';
    expect(rejected[0]?.data).toMatchObject({ outcome: 'conflict', resolutionTaskId: `${loser}-fix` });
    expect(readFileSync(join(workspace.root, 'shared.txt'), 'utf8')).toBe(resolved);
    // One checkpoint per merged change: the winner's and the resolution's; the loser's arrives through it.
    expect(mergedTaskIds(workspace.root).sort()).toEqual(
      [`${loser}-fix`, loser === 'left' ? 'right' : 'left'].sort(),
    );
    const report = onlyReport(workspace.root);
    expect(report.tasks.find((task) => task.id === loser)).toMatchObject({
      status: 'completed',
      mergedVia: `${loser}-fix`,
    });
    expect(report.status).toBe('completed');
  }, 60_000);

  it('turns a red re-verification after the rebase into a resolution task; main never sees the break', async () => {
    using workspace = new TempWorkspace();
    const complete = {
      toolCalls: [
        { toolName: 'task_complete', input: { summary: 'done', files_changed: [], tests_run: [] } },
      ],
    };
    const write = (path: string, content: string) => ({
      toolCalls: [{ toolName: 'write_file', input: { path, content } }],
    });
    const args = prepareRun(workspace, {
      tasks: [
        {
          id: 'lib',
          phase: 'infrastructure',
          files: { 'lib.sh': 'case "$1" in greet) echo hi ;; *) exit 1 ;; esac\n' },
        },
        // rename changes the library's command; caller, working at the same time, still uses the old one.
        {
          id: 'rename',
          files: { 'lib.sh': 'case "$1" in hello) echo hi ;; *) exit 1 ;; esac\n' },
          verifyCommands: ['sh lib.sh hello'],
        },
        {
          id: 'caller',
          files: {},
          verifyCommands: ['sh use.sh'],
          steps: [
            write('use.sh', 'sh lib.sh greet\n'),
            { toolCalls: [{ toolName: 'run_command', input: { command: 'sleep 1' } }] },
            complete,
          ],
        },
      ],
      verifyCommands: ['sh use.sh'],
    });
    const sessionPath = join(workspace.root, 'session.json');
    const session = readJsonFile<{ tasks: Record<string, unknown> }>(sessionPath);
    session.tasks['caller-fix'] = [write('use.sh', 'sh lib.sh hello\n'), complete];
    writeFileSync(sessionPath, JSON.stringify(session));

    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    const rejected = readEvents(result.stdout).filter((event) => event.type === 'merge.rejected');
    expect(rejected.map((event) => [event.taskId, event.data])).toEqual([
      [
        'caller',
        {
          outcome: 'verification_failed',
          details: 're-verification on the rebased result failed: `sh use.sh` exited 1',
          resolutionTaskId: 'caller-fix',
        },
      ],
    ]);
    expect(mergedTaskIds(workspace.root)).toEqual(['lib', 'rename', 'caller-fix']);
    // No commit on main has a caller that its library cannot answer: main was never red.
    for (const commit of git(workspace.root, ['log', '--format=%H', 'main']).trim().split('\n')) {
      const files = git(workspace.root, ['ls-tree', '--name-only', commit]).split('\n');
      if (!files.includes('use.sh')) continue;
      const command =
        git(workspace.root, ['show', `${commit}:use.sh`])
          .trim()
          .split(' ')
          .at(-1) ?? '';
      expect(git(workspace.root, ['show', `${commit}:lib.sh`]), commit).toContain(`${command})`);
    }
  }, 60_000);

  it('dead-letters a task that keeps failing and exits 5 with a report naming it', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, {
      tasks: [
        { id: 'good', files: files('good') },
        {
          id: 'broken',
          files: files('broken'),
          verifyCommands: ['echo "assertion failed: 1 != 2" && false'],
        },
        { id: 'after-broken', files: files('after'), dependencies: ['broken'] },
      ],
    });
    const result = await loki(workspace, [
      '-c',
      'baseWait=0',
      'run',
      'prd.md',
      ...args,
      '--max-task-attempts',
      '2',
    ]);
    expect(result.exitCode, result.stdout).toBe(5);
    expect(result.stdout).toContain('broken');
    expect(result.stdout).toContain('dead-lettered');
    const report = onlyReport(workspace.root);
    expect(report.status).toBe('blocked');
    expect(report.tasks.find((task) => task.id === 'broken')).toMatchObject({
      status: 'dead_letter',
      commit: null,
    });
    expect(report.notProven.join('\n')).toContain('broken');
    expect(mergedTaskIds(workspace.root)).toEqual(['good']);
    const markdown = readFileSync(
      join(workspace.root, '.loki', 'artifacts', 'reports', `${report.runId}.md`),
      'utf8',
    );
    expect(markdown).toContain('| broken Write broken | eng-backend | dead_letter |');
  }, 60_000);

  it('stops at the budget cap before a call that could cross it, exits 4 and says what was spent', async () => {
    using workspace = new TempWorkspace();
    await using server = await startFakeAnthropicServer();
    const session = buildSession({ tasks: [{ id: 'one', files: files('one') }] });
    const submitted = (steps: unknown) =>
      (steps as { toolCalls: { toolName: string; input: Record<string, unknown> }[] }[])[0]?.toolCalls[0];
    const discovery = submitted(session.discovery);
    // Discovery's call is real and priced; after it, the next planning call could cross the cap.
    server.enqueue(
      fakeReply.toolCall(discovery?.toolName ?? '', discovery?.input ?? {}, {
        usage: { inputTokens: 50_000, outputTokens: 10_000 },
      }),
    );
    writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
    const result = await loki(
      workspace,
      ['-c', 'maxRetries=0', 'run', 'prd.md', '--provider', 'anthropic', '--budget', '0.5'],
      {
        env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: server.baseUrl },
      },
    );
    expect(result.exitCode, result.stdout + result.stderr).toBe(4);
    expect(server.messageRequests()).toHaveLength(1);
    const report = onlyReport(workspace.root);
    expect(report).toMatchObject({ status: 'budget', exitCode: 4 });
    expect(report.budget.spentUsd).toBeGreaterThan(0);
    expect(report.budget.spentUsd).toBeLessThanOrEqual(0.5);
    expect(report.budget.byTask).toHaveProperty(['phase:discovery']);
    expect(result.stdout).toContain(`spent $${report.budget.spentUsd.toFixed(4)} of $0.5 (orchestrator $`);
    expect(mergedTaskIds(workspace.root)).toEqual([]);
  }, 60_000);

  it('keeps improving in Growth iterations with --perpetual, up to --max-iterations', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, { tasks: [{ id: 'base', files: files('base') }] });
    const sessionPath = join(workspace.root, 'session.json');
    const session = readJsonFile<{ tasks: Record<string, unknown>; growth?: unknown[] }>(sessionPath);
    const improvement = (id: string) => ({
      id,
      agentType: 'growth-hacker',
      title: `Improve ${id}`,
      description: `Write ${id}.`,
      acceptanceCriteria: [`${id} exists`],
      requirementIds: [],
      dependencies: ['base'],
      priority: 5,
      complexity: 'simple',
      verifyCommands: [`test -f files/${id}.txt`],
      touches: [`files/${id}.txt`],
    });
    const submit = (tasks: unknown[]) => [
      { toolCalls: [{ toolName: 'submit_improvements', input: { rationale: 'small wins first', tasks } }] },
    ];
    session.growth = [submit([improvement('onboarding')]), submit([improvement('referrals')])];
    for (const id of ['onboarding', 'referrals']) {
      session.tasks[id] = [
        { toolCalls: [{ toolName: 'write_file', input: { path: `files/${id}.txt`, content: `${id}\n` } }] },
        {
          toolCalls: [
            { toolName: 'task_complete', input: { summary: id, files_changed: [], tests_run: [] } },
          ],
        },
      ];
    }
    writeFileSync(sessionPath, JSON.stringify(session));

    const withoutPerpetual = await loki(workspace, ['run', 'prd.md', ...args, '--max-iterations', '1']);
    expect(withoutPerpetual.exitCode).toBe(2);
    expect(withoutPerpetual.stderr).toContain('--perpetual');

    const result = await loki(workspace, [
      'run',
      'prd.md',
      ...args,
      '--perpetual',
      '--max-iterations',
      '1',
      '--json',
    ]);
    expect(result.exitCode, result.stdout.slice(-2000)).toBe(0);
    const events = readEvents(result.stdout);
    expect(
      events.filter((event) => event.type === 'phase.entered').map((event) => event.data.phase),
    ).toContain('growth');
    const growthExit = events.find((event) => event.type === 'phase.exited' && event.data.phase === 'growth');
    expect(growthExit?.data).toMatchObject({ outcome: 'passed' });
    expect(JSON.stringify(growthExit?.data)).toContain('--max-iterations 1 reached');
    expect(mergedTaskIds(workspace.root)).toEqual(['base', 'onboarding']);
  }, 60_000);

  it('stops at once on a permanent provider failure, leaving the tasks in the queue untouched', async () => {
    using workspace = new TempWorkspace();
    await using server = await startFakeAnthropicServer();
    const session = buildSession({
      tasks: [
        { id: 'one', files: files('one') },
        { id: 'two', files: files('two') },
      ],
    });
    const submitted = (steps: unknown) =>
      (steps as { toolCalls: { toolName: string; input: Record<string, unknown> }[] }[])[0]?.toolCalls[0];
    for (const steps of [session.discovery, session.architecture]) {
      const call = submitted(steps);
      server.enqueue(fakeReply.toolCall(call?.toolName ?? '', call?.input ?? {}));
    }
    server.enqueue(anthropicFaults.authentication(), anthropicFaults.authentication());
    writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
    const result = await loki(workspace, ['run', 'prd.md', '--provider', 'anthropic', '--parallel', '1'], {
      env: { ANTHROPIC_API_KEY: 'sk-ant-revoked', ANTHROPIC_BASE_URL: server.baseUrl },
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^loki: .*ANTHROPIC_API_KEY/);
    // One task call was made and refused; no other task was tried, and nothing counts as a task failure.
    expect(server.messageRequests()).toHaveLength(3);
    const queue = await loki(workspace, ['queue', 'list', '--json']);
    const { tasks } = JSON.parse(queue.stdout) as {
      tasks: { id: string; status: string; retries: number }[];
    };
    expect(tasks.map((task) => [task.id, task.status, task.retries])).toEqual([
      ['one', 'pending', 0],
      ['two', 'pending', 0],
    ]);
    expect(onlyReport(workspace.root)).toMatchObject({ status: 'failed', exitCode: 1 });
  }, 60_000);

  it('refuses bad PRDs with exit 2 and writes nothing', async () => {
    using workspace = new TempWorkspace();
    mkdirSync(join(workspace.root, 'a-directory'));
    writeFileSync(join(workspace.root, 'empty.md'), '');
    writeFileSync(join(workspace.root, 'binary.md'), Buffer.from([0x23, 0x20, 0x00, 0x01, 0x02, 0xff, 0x00]));
    writeFileSync(join(workspace.root, 'huge.md'), Buffer.alloc(5 * 1024 * 1024 + 1, 'a'));
    writeFileSync(join(workspace.root, 'latin1.md'), Buffer.from([0x23, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x0a]));
    const before = readdirSync(workspace.root).sort();
    for (const [prd, message] of [
      ['missing.md', /not found|does not exist|no such/i],
      ['a-directory', /directory/i],
      ['empty.md', /empty/i],
      ['binary.md', /binary/i],
      ['huge.md', /5 MB|too large|larger/i],
      ['latin1.md', /UTF-8/i],
    ] as const) {
      const result = await loki(workspace, ['run', prd, '--provider', 'scripted', '--script', 'none.json']);
      expect(result.exitCode, prd).toBe(2);
      expect(result.stderr, prd).toMatch(message);
      expect(result.stderr.trim().split('\n'), prd).toHaveLength(1);
      expect(readdirSync(workspace.root).sort(), prd).toEqual(before);
    }
  });

  it('checks prerequisites before writing anything, unless LOKI_SKIP_PREREQS says not to', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, { tasks: [{ id: 'one', files: files('one') }] });
    const result = await loki(workspace, ['run', 'prd.md', ...args], {
      env: { PATH: join(workspace.home, 'empty-bin') },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/missing prerequisites: git .*LOKI_SKIP_PREREQS=true/);
    expect(existsSync(join(workspace.root, '.loki'))).toBe(false);
  });

  it('stops gracefully on Ctrl-C (exit 130) and resumes without redoing merged work', async () => {
    using workspace = new TempWorkspace();
    const ids = ['t1', 't2', 't3', 't4', 't5', 't6'];
    const { args, stopped } = await runStoppedAfterAMerge(workspace, ids, 2);
    expect(stopped.exitCode, stopped.stdout + stopped.stderr).toBe(130);
    expect(stopped.stdout).toContain('Stopping');
    const mergedBefore = mergedTaskIds(workspace.root);
    expect(mergedBefore.length).toBeGreaterThan(0);
    expect(mergedBefore.length).toBeLessThan(ids.length);
    const status = await loki(workspace, ['status', '--json']);
    expect(status.stdout).toContain('"stopped"');
    expect(extraWorktrees(workspace.root)).toEqual([]);

    // As if the run had been killed between moving main and updating the checked-out files.
    git(workspace.root, ['read-tree', '-u', '--reset', 'HEAD~1']);
    expect(git(workspace.root, ['status', '--porcelain', '--untracked-files=no'])).not.toBe('');

    const resumed = await loki(workspace, ['resume', ...args]);
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('Resuming');
    const merged = mergedTaskIds(workspace.root);
    expect(merged.slice(0, mergedBefore.length)).toEqual(mergedBefore);
    expect([...merged].sort()).toEqual(ids);
    expect(resumed.stdout).toContain('checkout brought up to main');
    expect(git(workspace.root, ['status', '--porcelain', '--untracked-files=no'])).toBe('');
    for (const id of ids)
      expect(readFileSync(join(workspace.root, `files/${id}.txt`), 'utf8')).toBe(`content of ${id}\n`);
  }, 60_000);

  it('refuses to resume where the PRD copy is gone, writing nothing, and loki run with the PRD takes the run over', async () => {
    using workspace = new TempWorkspace();
    const ids = ['p1', 'p2', 'p3'];
    const { args, stopped } = await runStoppedAfterAMerge(workspace, ids, 1);
    expect(stopped.exitCode).toBe(130);
    // As on another machine's fresh clone, or after a cleanup: .loki/specs/prd.md is not there.
    rmSync(join(workspace.root, '.loki', 'specs', 'prd.md'));
    const eventsBefore = readEvents(workspace.root).length;

    const refused = await loki(workspace, ['resume', ...args]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('.loki/specs/prd.md');
    expect(refused.stderr).toContain('loki run <prd>');
    expect(readEvents(workspace.root)).toHaveLength(eventsBefore);
    expect((await loki(workspace, ['status', '--json'])).stdout).toContain('"stopped"');

    const takenOver = await loki(workspace, ['run', 'prd.md', ...args]);
    expect(takenOver.exitCode, takenOver.stdout + takenOver.stderr).toBe(0);
    expect([...mergedTaskIds(workspace.root)].sort()).toEqual(ids);
  }, 60_000);

  // The moments a forced stop hurts most: an agent at work, and `git worktree add` holding its lock
  // (the first Ctrl-C's abort kills that git half-way, the second leaves before anything tidies up).
  it.each([
    ['while the first agent works', 'agent'],
    ['while git adds a task worktree', 'worktree add'],
  ] as const)(
    'leaves at once on a second Ctrl-C %s, and a plain resume finishes the run',
    async (_, moment) => {
      using workspace = new TempWorkspace();
      const ids = ['s1', 's2', 's3'];
      const args = prepareRun(
        workspace,
        { tasks: ids.map((id) => ({ id, files: files(id) })), latencyMilliseconds: 3000 },
        3,
      );
      // Watched from before the start (it does not exist yet: see watchForEntry).
      const adminDirectory = join(workspace.root, '.git', 'worktrees');
      const taskWorktreeAdded = watchForEntry(adminDirectory, (name) => ids.includes(name));
      const run = startLoki(workspace, ['run', 'prd.md', ...args]);
      try {
        if (moment === 'agent') await run.waitForOutput(/s1 started/);
        else await taskWorktreeAdded.found;
      } finally {
        taskWorktreeAdded.close();
      }
      run.child.kill('SIGINT');
      await run.waitForOutput(/Stopping/);
      run.child.kill('SIGINT');
      const ended = await run.done;
      expect(ended.exitCode).toBe(130);
      expect(ended.stderr).toContain('forced stop; run loki resume to continue');

      const resumed = await loki(workspace, ['resume', ...args, '--json']);
      expect(resumed.exitCode, resumed.stdout.slice(-2000)).toBe(0);
      expect([...mergedTaskIds(workspace.root)].sort()).toEqual(ids);
      expect(extraWorktrees(workspace.root)).toEqual([]);
      expect(existsSync(adminDirectory) ? readdirSync(adminDirectory) : []).toEqual([]);
      expect(existsSync(join(workspace.root, '.loki', 'worktrees'))).toBe(false);
    },
    120_000,
  );

  it('refuses a second run while one is live, and loki stop ends the live one', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(
      workspace,
      { tasks: [{ id: 'slow', files: files('slow') }], latencyMilliseconds: 2000 },
      1,
    );
    const live = startLoki(workspace, ['run', 'prd.md', ...args]);
    await live.waitForOutput(/▶ discovery/);
    const second = await loki(workspace, ['run', 'prd.md', ...args]);
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toMatch(/active/i);
    expect(second.stderr).toContain('loki stop');
    const stop = await loki(workspace, ['stop']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('stopped');
    const ended = await live.done;
    expect(ended.exitCode).toBe(130);
  }, 60_000);
});

describe('loki run parallelism', () => {
  // How much faster that makes the run is a measurement (npm run bench -- orchestration), not a test.
  it('works on as many independent tasks at once as --parallel and the machine allow', async () => {
    using workspace = new TempWorkspace();
    const tasks = Array.from({ length: 8 }, (_, index) => ({
      id: `p${index + 1}`,
      files: files(`p${index + 1}`),
    }));
    const args = prepareRun(workspace, { tasks, latencyMilliseconds: 400 }, 4);
    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const events = readEvents(result.stdout);
    expect(mostTasksHeldAtOnce(events)).toBeGreaterThanOrEqual(lowestWorkerLimit(events, 4));
    expect(mergedTaskIds(workspace.root).sort()).toEqual(tasks.map((task) => task.id).sort());
  }, 90_000);
});
