import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../src/deploy/index.ts';
import { loki, lokiProcess, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import {
  commitVersion,
  fetchText,
  pollUntil,
  startLoad,
  supervisorStatus,
  writeDeployableProduct,
} from './support/deploy-fixture.ts';
import { git, startLoki } from './support/run-harness.ts';

interface Deployment {
  version: string;
  status: string;
  url: string | null;
  reason: string | null;
  checks: { name: string; verdict: string }[];
  canarySteps: { percent: number; passed: boolean; candidate: { requests: number; errors: number } }[];
}

const workspaces: TempWorkspace[] = [];
afterEach(() => {
  // `loki deploy stop` in cleanup: no supervisor or app outlives the test, whatever failed.
  for (const workspace of workspaces.splice(0)) {
    lokiProcess(workspace, ['deploy', 'stop']);
    workspace[Symbol.dispose]();
  }
});

async function deployableWorkspace(): Promise<TempWorkspace> {
  const workspace = new TempWorkspace('loki-deploy-');
  workspaces.push(workspace);
  const init = await loki(workspace, ['init']);
  expect(init.exitCode, init.stderr).toBe(0);
  writeDeployableProduct(workspace);
  return workspace;
}

describe('loki deploy (local target)', () => {
  it('keeps serving after the CLI exits, restarts a killed app, and deploy stop leaves no process', async () => {
    const workspace = await deployableWorkspace();
    commitVersion(workspace, '1');
    const deployed = lokiProcess(workspace, ['deploy', '--json']);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    const deployment = parseJsonOutput<Deployment>(deployed);
    expect(deployment).toMatchObject({ version: 'v1', status: 'live' });
    expect(deployment.checks.map((check) => `${check.name}:${check.verdict}`)).toEqual([
      'health:pass',
      'smoke GET /items:pass',
    ]);
    const url = deployment.url ?? '';
    // The CLI process has exited (spawnSync returned): the product answers through the supervisor.
    expect(await fetchText(url)).toBe('version 1');

    const before = await supervisorStatus(workspace);
    const app = before?.apps.find((candidate) => candidate.version === 'v1');
    expect(app?.pid).toBeTypeOf('number');
    process.kill(-(app?.pid ?? 0), 'SIGKILL');
    const restarted = await pollUntil(
      'the killed app restarted',
      async () => (await supervisorStatus(workspace))?.apps.find((candidate) => candidate.version === 'v1'),
      (state) => state !== undefined && state.restarts >= 1 && state.pid !== null && state.pid !== app?.pid,
    );
    await pollUntil(
      'the restarted app answers',
      () => fetchText(url),
      (body) => body === 'version 1',
    );

    const stopped = lokiProcess(workspace, ['deploy', 'stop']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    for (const pid of [before?.pid ?? 0, restarted?.pid ?? 0])
      expect(isAlive(pid), `pid ${String(pid)}`).toBe(false);
    expect(await fetchText(url)).toBeNull();
    // Releases and the supervisor's files are workspace state, not the user's project.
    expect(git(workspace.root, ['status', '--porcelain', '--untracked-files=all'])).not.toMatch(
      /\.loki\/(releases|deploy)\//,
    );
    const status = await loki(workspace, ['deploy', 'status', '--json']);
    expect(parseJsonOutput(status)).toMatchObject({ isServing: false });
  }, 300_000);

  it('switches blue-green under load with zero failed requests, rolls back bad releases by itself, and loki rollback goes back', async () => {
    const workspace = await deployableWorkspace();
    commitVersion(workspace, '1');
    const first = parseJsonOutput<Deployment>(lokiProcess(workspace, ['deploy', '--json']));
    const url = first.url ?? '';
    expect(first.status).toBe('live');

    commitVersion(workspace, '2');
    const load = startLoad(url);
    const second = startLoki(workspace, ['deploy', '--json']);
    const secondDone = await second.done;
    // Keep the load going until the new release has been seen answering through the proxy.
    await pollUntil(
      'v2 serves',
      () => fetchText(url),
      (body) => body === 'version 2',
    );
    const traffic = await load.stop();
    expect(secondDone.exitCode, secondDone.stderr).toBe(0);
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    expect(traffic.ok).toBeGreaterThan(0);
    expect(traffic.bodies).toEqual(new Set(['version 1', 'version 2']));

    commitVersion(workspace, '3', 'unhealthy');
    const unhealthy = lokiProcess(workspace, ['deploy', '--json', '--health-timeout', '5']);
    expect(unhealthy.exitCode).toBe(3);
    expect(parseJsonOutput<Deployment>(unhealthy)).toMatchObject({ version: 'v3', status: 'rolled_back' });
    expect(await fetchText(url)).toBe('version 2');

    commitVersion(workspace, '4', 'degrading');
    // Healthy at first (a slow start on a loaded machine must not pass for a failed health check).
    const canary = lokiProcess(workspace, ['deploy', '--strategy', 'canary', '--json']);
    expect(canary.exitCode, canary.stderr).toBe(3);
    const canaryDeployment = parseJsonOutput<Deployment>(canary);
    expect(canaryDeployment).toMatchObject({ version: 'v4', status: 'rolled_back' });
    expect(canaryDeployment.reason).toMatch(/canary at 10 %: error rate/);
    expect(canaryDeployment.canarySteps[0]).toMatchObject({ percent: 10, passed: false });
    expect(await fetchText(url)).toBe('version 2');

    const rollback = await loki(workspace, ['rollback', '--json']);
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(parseJsonOutput(rollback)).toMatchObject({ fromVersion: 'v2', version: 'v1', wasWarm: true });
    expect(await fetchText(url)).toBe('version 1');
    const forward = await loki(workspace, ['rollback', '--to', 'v2', '--json']);
    expect(forward.exitCode, forward.stderr).toBe(0);
    expect(await fetchText(url)).toBe('version 2');
    const refused = await loki(workspace, ['rollback', '--to', 'v3']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/v3 never passed its checks/);

    const history = parseJsonOutput<{ version: string; status: string; reason: string | null }[]>(
      await loki(workspace, ['deployments', '--json']),
    );
    expect(history.map((release) => `${release.version}:${release.status}`)).toEqual([
      'v1:superseded',
      'v2:live',
      'v3:rolled_back',
      'v4:rolled_back',
    ]);
    expect(history[2]?.reason).toMatch(/v3 failed health/);
    const table = await loki(workspace, ['deployments']);
    expect(table.stdout).toMatch(/^v2 .* live .*http:\/\/127\.0\.0\.1:\d+/m);
  }, 300_000);
});
