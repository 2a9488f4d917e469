import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import { type CliResult, loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';

interface AgentsJson {
  workspace: string | null;
  types: Array<{ id: string; swarm: string; title: string; purpose: string; tier: string; tools: string[] }>;
  instances: Array<{
    worker: string;
    tasks: Array<{
      id: string;
      type: string;
      isKnownType: boolean;
      title: string;
      since: string | null;
      leaseExpiresAt: string | null;
      isLeaseExpired: boolean;
    }>;
  }>;
}

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

function expectOk(result: CliResult): CliResult {
  expect(result.stderr, result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return result;
}

/** Claims a task the way a worker does, through the store, so that `loki agents` sees a live agent. */
async function claimTask(workspace: TempWorkspace, clock: ManualClock, workerId: string, taskId: string) {
  await using opened = await openWorkspace(workspace.root, { clock });
  const claimed = await opened.store.claimTask({ workerId, taskId, leaseMilliseconds: 10 * 60_000 });
  expect(claimed?.id).toBe(taskId);
}

describe('loki agents', () => {
  it('lists the catalog outside a workspace and says there is no workspace, exit 0', async () => {
    using workspace = new TempWorkspace();
    const report = parseJsonOutput<AgentsJson>(expectOk(await loki(workspace, ['agents', '--json'])));
    expect(report.workspace).toBeNull();
    expect(report.instances).toEqual([]);
    expect(report.types).toHaveLength(38);
    expect(report.types.find((agentType) => agentType.id === 'review-security')).toMatchObject({
      swarm: 'review',
      title: 'Security reviewer',
      tier: 'planning',
      tools: ['read_file', 'list_dir', 'glob', 'grep', 'git_status', 'git_diff', 'task_complete'],
    });

    const text = expectOk(await loki(workspace, ['agents'])).stdout;
    expect(text).toMatch(/^Agent types \(38\):\nID\s+SWARM\s+TIER\s+TOOLS\s+TITLE\n/);
    expect(text).toMatch(/^eng-backend\s+engineering\s+default\s+10\s+Backend engineer$/m);
    expect(text).toMatch(/^biz-legal\s+business\s+default\s+9\s+Legal counsel$/m);
    expect(text).toMatch(/^orchestrator\s+orchestration\s+planning\s+7\s+Orchestrator$/m);
    expect(text).toContain(`No Loki workspace in ${workspace.root}, so no live agents to show`);
  });

  it('shows the tasks in progress grouped by worker, with since-when and stale leases', async () => {
    using workspace = new TempWorkspace();
    const clock = new ManualClock(START);
    expectOk(await loki(workspace, ['init'], { clock }));
    const add = async (id: string, type: string, title: string) =>
      expectOk(await loki(workspace, ['queue', 'add', title, '--type', type, '--id', id], { clock }));
    await add('api', 'eng-backend', 'Build the API');
    await add('docs', 'prod-techwriter', 'Write the README');
    // `loki queue add` refuses unknown types now; a task from an older catalog can still carry one.
    {
      await using opened = await openWorkspace(workspace.root, { clock });
      await opened.queue.enqueue({
        id: 'odd',
        type: 'eng-backnd',
        title: 'A task with a mistyped agent type',
      });
    }
    await add('idle', 'eng-qa', 'Nobody has claimed this one');

    const empty = expectOk(await loki(workspace, ['agents'], { clock })).stdout;
    expect(empty).toContain('Live agents: none (no task is in progress).');

    await claimTask(workspace, clock, 'worker-b', 'api');
    clock.advance(2 * 60_000);
    await claimTask(workspace, clock, 'worker-a', 'docs');
    await claimTask(workspace, clock, 'worker-b', 'odd');
    clock.advance(3 * 60_000);

    const report = parseJsonOutput<AgentsJson>(
      expectOk(await loki(workspace, ['agents', '--json'], { clock })),
    );
    expect(report.workspace).toBe(workspace.root);
    expect(report.types).toHaveLength(38);
    expect(report.instances).toEqual([
      {
        worker: 'worker-a',
        tasks: [
          {
            id: 'docs',
            type: 'prod-techwriter',
            isKnownType: true,
            title: 'Write the README',
            since: '2026-01-01T12:02:00.000Z',
            leaseExpiresAt: '2026-01-01T12:12:00.000Z',
            isLeaseExpired: false,
          },
        ],
      },
      {
        worker: 'worker-b',
        tasks: [
          expect.objectContaining({ id: 'api', type: 'eng-backend', since: '2026-01-01T12:00:00.000Z' }),
          expect.objectContaining({ id: 'odd', type: 'eng-backnd', isKnownType: false }),
        ],
      },
    ]);

    const text = expectOk(await loki(workspace, ['agents'], { clock })).stdout;
    expect(text).toContain('Live agents (2 workers, 3 tasks in progress):');
    expect(text).toMatch(/^WORKER\s+TASK\s+TYPE\s+SINCE\s+TITLE$/m);
    expect(text).toMatch(
      /^worker-a\s+docs\s+prod-techwriter\s+2026-01-01T12:02:00Z \(3m ago\)\s+Write the README$/m,
    );
    expect(text).toMatch(/^worker-b\s+api\s+eng-backend\s+2026-01-01T12:00:00Z \(5m ago\)\s+Build the API$/m);
    expect(text).toMatch(/^worker-b\s+odd\s+eng-backnd \(unknown type\)\s+/m);
    expect(text).not.toContain('idle');

    // A worker that stopped renewing its lease is shown as such, not as a healthy agent.
    clock.advance(10 * 60_000);
    const stale = expectOk(await loki(workspace, ['agents'], { clock })).stdout;
    expect(stale).toMatch(
      /^worker-b\s+api\s+eng-backend\s+2026-01-01T12:00:00Z \(15m ago\), lease expired\s+/m,
    );
  });

  it('strips terminal control characters from task titles', async () => {
    using workspace = new TempWorkspace();
    const clock = new ManualClock(START);
    expectOk(await loki(workspace, ['init'], { clock }));
    expectOk(
      await loki(
        workspace,
        ['queue', 'add', 'Evil \u001b[2Jtitle', '--type', 'eng-backend', '--id', 'evil'],
        {
          clock,
        },
      ),
    );
    await claimTask(workspace, clock, 'worker-1', 'evil');
    const text = expectOk(await loki(workspace, ['agents'], { clock })).stdout;
    expect(text).not.toContain('\u001b');
    expect(text).toMatch(/^worker-1\s+evil\s+eng-backend\s+.*Evil �\[2Jtitle$/m);
  });
});
