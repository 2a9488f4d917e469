import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock/index.ts';
import { openWorkspace, QUEUE_PROJECTION_FILES } from '../src/workspace/index.ts';
import { type CliResult, loki, lokiProcess, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';

interface TaskJson {
  id: string;
  status: string;
  priority: number;
  retries: number;
  availableAt: string;
  backoffSeconds: number;
  lastError: string | null;
}

interface StatusJson {
  phase: string;
  agents: { active: number; workers: string[] };
  queue: Record<string, number>;
  lastUpdate: string | null;
}

const PROJECTION_KEY_BY_FILE: Record<string, string> = {
  'pending.json': 'pending',
  'in-progress.json': 'inProgress',
  'completed.json': 'completed',
  'failed.json': 'failed',
  'dead-letter.json': 'deadLetter',
  'cancelled.json': 'cancelled',
};

function expectOk(result: CliResult): CliResult {
  expect(result.stderr, result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return result;
}

/** The queue files, orchestrator.json and STATUS.txt must say exactly what `loki status --json` says. */
async function expectProjectionsAgreeWithStatus(workspace: TempWorkspace): Promise<StatusJson> {
  const status = parseJsonOutput<StatusJson>(expectOk(await loki(workspace, ['status', '--json'])));
  const statusText = readFileSync(join(workspace.root, '.loki/STATUS.txt'), 'utf8');
  const labels: Record<string, string> = {
    pending: 'Pending',
    inProgress: 'In Progress',
    completed: 'Completed',
    failed: 'Failed',
    deadLetter: 'Dead letter',
    cancelled: 'Cancelled',
  };
  for (const { file } of QUEUE_PROJECTION_FILES) {
    const key = PROJECTION_KEY_BY_FILE[file] ?? file;
    const projected = JSON.parse(readFileSync(join(workspace.root, '.loki/queue', file), 'utf8')) as {
      tasks: TaskJson[];
    };
    expect(projected.tasks.length, file).toBe(status.queue[key]);
    expect(statusText).toMatch(new RegExp(`^${labels[key]}:\\s+${status.queue[key]}$`, 'm'));
  }
  expect(statusText).toMatch(new RegExp(`^Phase:\\s+${status.phase}$`, 'm'));
  expect(statusText).toMatch(new RegExp(`^Agents:\\s+${status.agents.active} active`, 'm'));
  expect(statusText).toContain(`Last update:  ${status.lastUpdate ?? 'never'}`);
  const orchestrator = JSON.parse(
    readFileSync(join(workspace.root, '.loki/state/orchestrator.json'), 'utf8'),
  );
  expect(orchestrator).toMatchObject({
    version: 1,
    currentPhase: status.phase,
    metrics: {
      tasksPending: status.queue.pending,
      tasksInProgress: status.queue.inProgress,
      tasksCompleted: status.queue.completed,
      tasksFailed: status.queue.failed,
      tasksDeadLetter: status.queue.deadLetter,
    },
  });
  return status;
}

describe('loki queue and loki status', () => {
  let workspace: TempWorkspace;
  beforeEach(async () => {
    workspace = new TempWorkspace();
    expectOk(await loki(workspace, ['init']));
    return () => workspace[Symbol.dispose]();
  });

  it('adds, lists, shows, reprioritizes and cancels tasks, with --json everywhere', async () => {
    const added = parseJsonOutput<TaskJson>(
      expectOk(
        await loki(workspace, [
          'queue',
          'add',
          'Build the API',
          '--type',
          'eng-backend',
          '--priority',
          '8',
          '--id',
          'api',
          '--json',
        ]),
      ),
    );
    expect(added).toMatchObject({ id: 'api', status: 'pending', priority: 8, retries: 0 });
    expectOk(
      await loki(workspace, [
        'queue',
        'add',
        'Write docs',
        '--type',
        'prod-techwriter',
        '--depends-on',
        'api',
        '--id',
        'docs',
      ]),
    );

    const human = expectOk(await loki(workspace, ['queue', 'list'])).stdout;
    expect(human.split('\n')[0]).toMatch(/^ID\s+STATUS\s+PRI\s+TYPE\s+TRIES\s+TITLE$/);
    expect(human).toMatch(/^api\s+pending\s+8\s+eng-backend\s+0\/3\s+Build the API$/m);

    const filtered = parseJsonOutput<{ tasks: TaskJson[] }>(
      expectOk(await loki(workspace, ['queue', 'list', '--type', 'prod-techwriter', '--json'])),
    );
    expect(filtered.tasks.map((task) => task.id)).toEqual(['docs']);

    const shown = parseJsonOutput<{ task: { dependencies: string[] }; events: Array<{ type: string }> }>(
      expectOk(await loki(workspace, ['queue', 'show', 'docs', '--json'])),
    );
    expect(shown.task.dependencies).toEqual(['api']);
    expect(shown.events.map((event) => event.type)).toEqual(['task.enqueued']);

    expect(
      parseJsonOutput<TaskJson>(
        expectOk(await loki(workspace, ['queue', 'prioritize', 'docs', '10', '--json'])),
      ).priority,
    ).toBe(10);
    expect(
      parseJsonOutput<TaskJson>(expectOk(await loki(workspace, ['queue', 'cancel', 'docs', '--json'])))
        .status,
    ).toBe('cancelled');
    const status = await expectProjectionsAgreeWithStatus(workspace);
    expect(status.queue).toMatchObject({ pending: 1, cancelled: 1, total: 2 });
  });

  it('rejects bad input with exit 2 and one line on stderr, changing nothing', async () => {
    expectOk(
      await loki(workspace, [
        'queue',
        'add',
        'first',
        '--type',
        'eng-backend',
        '--id',
        'first',
        '--idempotency-key',
        'k1',
      ]),
    );
    const statusBefore = readFileSync(join(workspace.root, '.loki/STATUS.txt'), 'utf8');
    const cases: Array<[string[], RegExp]> = [
      [
        ['queue', 'add', 'x', '--type', 'eng-backend', '--priority', '11'],
        /--priority must be a whole number from 1 to 10/,
      ],
      [
        ['queue', 'add', 'x', '--type', 'eng-backend', '--priority', 'high'],
        /--priority must be a whole number/,
      ],
      [
        ['queue', 'add', 'x', '--type', 'eng-backend', '--depends-on', 'ghost'],
        /depends on "ghost", which does not exist/,
      ],
      [
        ['queue', 'add', 'x', '--type', 'eng-backend', '--id', 'self', '--depends-on', 'self'],
        /depends on itself/,
      ],
      [
        ['queue', 'add', 'x', '--type', 'eng-backend', '--idempotency-key', 'k1'],
        /already used by task "first"/,
      ],
      [['queue', 'add', 'x', '--type', 'eng-backend', '--id', 'first'], /already exists/],
      [['queue', 'add', 'x', '--type', 'eng-backend', '--payload', '{oops'], /--payload must be JSON/],
      [['queue', 'add', 'x'], /required option '--type <agent-type>' not specified/],
      [
        ['queue', 'add', 'x', '--type', 'eng-backnd'],
        /unknown agent type "eng-backnd"; did you mean eng-backend\?/,
      ],
      [['queue', 'prioritize', 'first', '0'], /priority must be a whole number from 1 to 10/],
      [['queue', 'show', 'ghost'], /no task with id "ghost"/],
      [['queue', 'retry', 'first'], /cannot retry task "first": it is pending/],
      [['queue', 'list', '--status', 'done'], /unknown status "done"/],
    ];
    for (const [args, message] of cases) {
      const result = await loki(workspace, args);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const listed = parseJsonOutput<{ tasks: TaskJson[] }>(await loki(workspace, ['queue', 'list', '--json']));
    expect(listed.tasks.map((task) => task.id)).toEqual(['first']);
    expect(readFileSync(join(workspace.root, '.loki/STATUS.txt'), 'utf8')).toBe(statusBefore);
  });

  it('backs off a failing task, dead-letters it at max attempts, and `loki queue retry` brings it back', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    expectOk(
      await loki(
        workspace,
        ['queue', 'add', 'flaky', '--type', 'eng-backend', '--id', 'flaky', '--max-attempts', '3'],
        { clock },
      ),
    );
    // Base 60 s and cap 3600 s by default; these flags prove the config reaches the queue.
    const backoff = { baseSeconds: 10, maxSeconds: 15, jitterRatio: 0.1 };
    const expected = [10, 15];
    {
      await using opened = await openWorkspace(workspace.root, { clock, backoff });
      for (const base of expected) {
        const claimed = await opened.queue.claim({ workerId: 'worker-1' });
        expect(claimed?.id).toBe('flaky');
        const failed = await opened.queue.fail('flaky', 'worker-1', 'tests failed');
        const waited = (failed.availableAt - clock.now()) / 1000;
        expect(waited).toBeGreaterThanOrEqual(base);
        expect(waited).toBeLessThanOrEqual(base * 1.1 + 0.001);
        expect(failed.backoffSeconds).toBeCloseTo(waited, 2);
        await opened.refreshProjections();
        const failedFile = JSON.parse(readFileSync(join(workspace.root, '.loki/queue/failed.json'), 'utf8'));
        expect(failedFile.tasks[0]).toMatchObject({
          id: 'flaky',
          availableAt: new Date(failed.availableAt).toISOString(),
        });
        clock.set(failed.availableAt);
      }
      await opened.queue.claim({ workerId: 'worker-1' });
      expect((await opened.queue.fail('flaky', 'worker-1', 'still failing')).status).toBe('dead_letter');
      await opened.refreshProjections();
    }
    let status = await expectProjectionsAgreeWithStatus(workspace);
    expect(status.queue.deadLetter).toBe(1);

    const retried = parseJsonOutput<TaskJson>(
      expectOk(await loki(workspace, ['queue', 'retry', 'flaky', '--json'], { clock })),
    );
    expect(retried).toMatchObject({ status: 'pending', retries: 0, lastError: 'still failing' });
    status = await expectProjectionsAgreeWithStatus(workspace);
    expect(status.queue).toMatchObject({ pending: 1, deadLetter: 0 });
  });

  it('uses LOKI_BASE_WAIT and LOKI_MAX_WAIT for the backoff of tasks failed through the CLI workspace', async () => {
    const { openCliWorkspace } = await import('../src/cli/open-cli-workspace.ts');
    const { buildProgram } = await import('../src/cli/main.ts');
    const clock = new ManualClock();
    const context = {
      cwd: workspace.root,
      env: { ...workspace.env, LOKI_BASE_WAIT: '7', LOKI_MAX_WAIT: '8' },
      clock,
      stdout: () => {},
      stderr: () => {},
      exitCode: 0,
    };
    await using opened = await openCliWorkspace(buildProgram(context), context);
    await opened.queue.enqueue({ id: 't', type: 'eng-backend', title: 't', maxAttempts: 5 });
    const waits: number[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await opened.queue.claim({ workerId: 'w' });
      const failed = await opened.queue.fail('t', 'w', 'x');
      waits.push((failed.availableAt - clock.now()) / 1000);
      clock.set(failed.availableAt);
    }
    expect(waits[0]).toBeGreaterThanOrEqual(7);
    expect(waits[0]).toBeLessThanOrEqual(7.7 + 0.001);
    expect(waits[1]).toBeGreaterThanOrEqual(8);
    expect(waits[2]).toBeLessThanOrEqual(8.8 + 0.001);
  });

  it('keeps the projections in agreement with the store through a random sequence of changes', async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const clock = new ManualClock();
    await using opened = await openWorkspace(workspace.root, {
      clock,
      backoff: { baseSeconds: 1, maxSeconds: 4, jitterRatio: 0.1 },
    });
    const ids: string[] = [];
    for (let step = 0; step < 150; step += 1) {
      const choice = random();
      const id = ids[Math.floor(random() * ids.length)];
      try {
        if (choice < 0.3 || id === undefined) {
          const task = await opened.queue.enqueue({
            type: random() < 0.5 ? 'eng-backend' : 'ops-sre',
            title: `task ${step}`,
            priority: 1 + Math.floor(random() * 10),
            maxAttempts: 2,
            ...(id !== undefined && random() < 0.3 ? { dependencies: [id] } : {}),
          });
          ids.push(task.id);
        } else if (choice < 0.55) {
          const claimed = await opened.queue.claim({
            workerId: `worker-${Math.floor(random() * 3)}`,
            leaseSeconds: 5,
          });
          if (claimed !== null && random() < 0.5)
            await opened.queue.complete(claimed.id, claimed.claimedBy ?? '');
          else if (claimed !== null && random() < 0.6)
            await opened.queue.fail(claimed.id, claimed.claimedBy ?? '', 'x');
        } else if (choice < 0.65) await opened.queue.cancel(id);
        else if (choice < 0.75) await opened.queue.retry(id);
        else if (choice < 0.85) await opened.queue.prioritize(id, 1 + Math.floor(random() * 10));
        else clock.advance(2_000);
      } catch (error) {
        // Invalid transitions (e.g. retrying a pending task) are expected in a random walk.
        if (!(error instanceof Error && 'code' in error && String(error.code).startsWith('TASK_')))
          throw error;
      }
      await opened.refreshProjections();
      if (step % 25 === 24) await expectProjectionsAgreeWithStatus(workspace);
    }
    const status = await expectProjectionsAgreeWithStatus(workspace);
    expect(status.queue.total).toBe(ids.length);
  });

  it('shows open circuit breakers in loki status and STATUS.txt', async () => {
    {
      await using opened = await openWorkspace(workspace.root, {
        clock: new ManualClock(Date.UTC(2026, 0, 2)),
      });
      await opened.store.saveBreaker(
        {
          name: 'provider:anthropic',
          state: 'open',
          consecutiveFailures: 5,
          halfOpenSuccesses: 0,
          openedAt: Date.UTC(2026, 0, 2),
          updatedAt: Date.UTC(2026, 0, 2),
        },
        true,
      );
      await opened.refreshProjections();
    }
    const status = parseJsonOutput<{ breakers: unknown[] }>(
      expectOk(await loki(workspace, ['status', '--json'])),
    );
    expect(status.breakers).toEqual([
      {
        name: 'provider:anthropic',
        state: 'open',
        consecutiveFailures: 5,
        openedAt: '2026-01-02T00:00:00.000Z',
      },
    ]);
    const text = readFileSync(join(workspace.root, '.loki/STATUS.txt'), 'utf8');
    expect(text).toContain(
      'Breakers:     provider:anthropic open (5 failures, since 2026-01-02T00:00:00.000Z)',
    );
    expect(expectOk(await loki(workspace, ['status'])).stdout).toContain('provider:anthropic open');
  });

  it('refuses to work outside a workspace, pointing at loki init', async () => {
    using elsewhere = new TempWorkspace();
    for (const args of [['status'], ['queue', 'list'], ['queue', 'add', 'x', '--type', 'eng-backend']]) {
      const result = await loki(elsewhere, args);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/no Loki workspace in .*; run "loki init" here first/);
    }
  });

  it('escapes control characters from task titles in terminal output', async () => {
    expectOk(
      await loki(workspace, [
        'queue',
        'add',
        'evil \u001b[31mred\u001b[0m \u0007title',
        '--type',
        'eng-backend',
        '--id',
        'evil',
      ]),
    );
    const listed = expectOk(await loki(workspace, ['queue', 'list'])).stdout;
    expect(listed).not.toContain('\u001b');
    expect(listed).not.toContain('\u0007');
    expect(listed).toContain('evil �[31mred�[0m �title');
  });
});

describe('the loki executable', () => {
  it('prints its version and a one-line error with exit 2 for an unknown command', () => {
    using workspace = new TempWorkspace();
    const packageJson = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    const version = lokiProcess(workspace, ['--version']);
    expect(version).toMatchObject({ exitCode: 0, stdout: `${packageJson.version}\n`, stderr: '' });
    const unknown = lokiProcess(workspace, ['fly']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'fly'/);
  });

  it('runs init, queue add and status end to end in a child process', () => {
    using workspace = new TempWorkspace();
    expect(lokiProcess(workspace, ['init']).exitCode).toBe(0);
    expect(lokiProcess(workspace, ['queue', 'add', 'Ship it', '--type', 'ops-release']).exitCode).toBe(0);
    const status = lokiProcess(workspace, ['status']);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/^Pending:\s+1$/m);
  });
});
