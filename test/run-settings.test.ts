/**
 * A run's settings are part of the run (DESIGN.md §3, "App services, the event bus, control through
 * the store"): recorded in the store when it starts, reused by a plain `loki resume`, overridden by
 * flags given again (and those overrides recorded in turn). No secret is ever recorded.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { stopDeploymentAtEnd } from './support/deploy-fixture.ts';
import { mergedTaskIds, prepareRun, startLoki } from './support/run-harness.ts';

const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });

/** PATH without node_modules/.bin, whose `claude` would otherwise be auto-detected as a provider. */
const PATH_WITHOUT_AGENT_CLIS = (process.env.PATH ?? '')
  .split(':')
  .filter((directory) => !directory.includes('node_modules'))
  .join(':');

/** A product the Deployment phase can start: it answers every path, `/health` included. */
const SERVER_SOURCE = `require('node:http')
  .createServer((request, response) => response.end('ok'))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

/** The `settings:` line a run prints under its first line. */
function settingsLine(stdout: string): string {
  return (
    stdout
      .split('\n')
      .find((line) => line.trimStart().startsWith('settings:'))
      ?.trim() ?? ''
  );
}

describe('run settings', () => {
  it('a plain loki resume continues a killed loki demo with the demo’s own settings', async () => {
    using workspace = new TempWorkspace('loki-settings-');
    const directory = join(workspace.root, 'demo');
    const demo = startLoki(workspace, ['demo', '--dir', directory]);
    // Killed once its agents are at work: the run and its settings are in the store by then.
    await demo.waitForOutput(/ started \(attempt 1\)/, 120_000);
    demo.child.kill('SIGKILL');
    await demo.done;

    // No provider flag, no API key in the environment: only the run itself knows it was scripted.
    const resumed = await loki(workspace, ['resume', '--no-deploy'], {
      cwd: directory,
      env: { PATH: PATH_WITHOUT_AGENT_CLIS },
    });
    expect(resumed.exitCode, resumed.stdout.slice(-3000) + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('Resuming run');
    const settings = settingsLine(resumed.stdout);
    expect(settings).toMatch(/provider scripted, script .*examples\/todo-api\/session\.json, parallel 4/);
    // Every setting from the run but --no-deploy, which is a setting of its own given again here.
    expect(settings).toMatch(/store sqlite \(from the run\); no deploy \(from --no-deploy\)$/);
    // --no-deploy: the Deployment phase left nothing running.
    expect(resumed.stdout).not.toContain('live: http');
    expect(existsSync(join(directory, '.loki', 'deploy', 'supervisor.pid'))).toBe(false);
  }, 300_000);

  it('uses and records a flag given again, and a later plain resume keeps it', async () => {
    using workspace = new TempWorkspace('loki-settings-');
    const ids = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const args = prepareRun(
      workspace,
      { tasks: ids.map((id) => ({ id, files: files(id) })), latencyMilliseconds: 300 },
      3,
    );
    const first = startLoki(workspace, ['run', 'prd.md', ...args, '--budget', '2']);
    await first.waitForOutput(/ started \(attempt 1\)/);
    first.child.kill('SIGKILL');
    await first.done;

    // Resumed with one agent only, then stopped again once something merged.
    const second = startLoki(workspace, ['resume', '--parallel', '1']);
    await second.waitForOutput(/merged as/, 60_000);
    second.child.kill('SIGINT');
    const stopped = await second.done;
    expect(stopped.exitCode, stopped.stdout + stopped.stderr).toBe(130);
    expect(settingsLine(stopped.stdout)).toMatch(
      /^settings: provider scripted, script \S*session\.json, budget \$2, max task attempts 3, store sqlite \(from the run\); parallel 1 \(from --parallel\)$/,
    );
    expect(stopped.stdout).toMatch(/up to 1 agent\b/);

    {
      await using opened = await openWorkspace(workspace.root, { clock: systemClock });
      const run = await opened.store.getLatestRun();
      expect(run?.settings).toMatchObject({ provider: 'scripted', parallel: 1, budgetUsd: 2 });
      const recorded = (await opened.store.listEvents()).filter(
        (event) => event.type === 'run.settings_recorded',
      );
      expect(recorded.map((event) => event.type === 'run.settings_recorded' && event.data.given)).toEqual([
        ['provider', 'script', 'parallel', 'budgetUsd'],
        ['parallel'],
      ]);
    }

    const third = await loki(workspace, ['resume']);
    expect(third.exitCode, third.stdout + third.stderr).toBe(0);
    expect(settingsLine(third.stdout)).toMatch(/parallel 1, budget \$2, .*\(from the run\)$/);
    expect(third.stdout).toMatch(/up to 1 agent\b/);
    expect([...mergedTaskIds(workspace.root)].sort()).toEqual(ids);

    // Nothing the environment holds as a secret is part of the record.
    const again = await loki(workspace, ['run', 'prd.md'], {
      env: { ANTHROPIC_API_KEY: 'sk-ant-never-recorded' },
    });
    expect(again.stdout).toContain('already completed');
    await using opened = await openWorkspace(workspace.root, { clock: systemClock });
    expect(JSON.stringify(await opened.store.listEvents())).not.toContain('sk-ant-never-recorded');
  }, 180_000);

  it('keeps --no-deploy when a plain loki resume continues the run: nothing is deployed', async () => {
    using workspace = new TempWorkspace('loki-settings-');
    await using _deployment = stopDeploymentAtEnd(workspace);
    const args = prepareRun(
      workspace,
      {
        tasks: [
          { id: 'server', files: { 'server.js': SERVER_SOURCE } },
          { id: 'notes', files: files('notes') },
        ],
        latencyMilliseconds: 300,
        deployment: { startCommand: 'node server.js', healthPath: '/health' },
      },
      1,
    );
    // Only the quick gates: this test is about what the Deployment phase does, not the app gates.
    mkdirSync(join(workspace.root, '.loki', 'config'), { recursive: true });
    writeFileSync(
      join(workspace.root, '.loki', 'config', 'gates.yaml'),
      'qa: [unit-tests]\ndeployment: [unit-tests]\n',
    );
    const first = startLoki(workspace, ['run', 'prd.md', ...args, '--no-deploy', '--no-dashboard']);
    await first.waitForOutput(/ started \(attempt 1\)/, 60_000);
    first.child.kill('SIGKILL');
    await first.done;

    const resumed = await loki(workspace, ['resume', '--no-dashboard']);
    expect(resumed.exitCode, resumed.stdout.slice(-3000) + resumed.stderr).toBe(0);
    expect(resumed.stdout).not.toContain('live: http');
    expect(existsSync(join(workspace.root, '.loki', 'deploy', 'supervisor.pid'))).toBe(false);
    expect(settingsLine(resumed.stdout)).toMatch(/no deploy, store sqlite \(from the run\)$/);
    await using opened = await openWorkspace(workspace.root, { clock: systemClock });
    expect((await opened.store.getLatestRun())?.settings).toMatchObject({ deploy: false });
  }, 180_000);

  it('refuses a plain resume with nothing to resume, without asking for a provider', async () => {
    using workspace = new TempWorkspace('loki-settings-');
    const args = prepareRun(workspace, { tasks: [{ id: 'only', files: files('only') }] }, 1);
    const done = await loki(workspace, ['run', 'prd.md', ...args]);
    expect(done.exitCode, done.stderr).toBe(0);
    const resumed = await loki(workspace, ['resume'], { env: { PATH: PATH_WITHOUT_AGENT_CLIS } });
    expect(resumed.exitCode).toBe(2);
    expect(resumed.stderr).toMatch(/already completed; there is nothing to resume/);
  }, 60_000);

  it('refuses --parallel 0 without --repo (no one would do the tasks), writing nothing', async () => {
    using workspace = new TempWorkspace('loki-settings-');
    const args = prepareRun(workspace, { tasks: [{ id: 'only', files: files('only') }] }, 1);
    const refused = await loki(workspace, ['run', 'prd.md', ...args, '--parallel', '0']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--parallel 0');
    expect(refused.stderr).toContain('--repo');
    expect(existsSync(join(workspace.root, '.loki'))).toBe(false);
  }, 60_000);
});
