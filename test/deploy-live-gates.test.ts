/**
 * After its health and smoke checks, a new release must pass the deployment stage's performance and
 * accessibility gates (gates.yaml, its thresholds) on the URL where it answers, before it takes the
 * traffic; one that fails them is rolled back by itself, the old one serving throughout, and the
 * deploy's output, its `release.deployed` event, `loki deployments` and an alert say why.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import { startFakeHttpServer } from './fakes/fake-http-server.ts';
import { loki, lokiProcess, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { HAS_CHROMIUM } from './support/dashboard-browser.ts';
import { commitVersion, fetchText, pollUntil, writeDeployableProduct } from './support/deploy-fixture.ts';

interface Deployment {
  version: string;
  status: string;
  url: string | null;
  reason: string | null;
  checks: { name: string; verdict: string; detail: string }[];
}

const workspaces: TempWorkspace[] = [];
afterEach(() => {
  // `loki deploy stop` in cleanup: no supervisor or app outlives the test, whatever failed.
  for (const workspace of workspaces.splice(0)) {
    lokiProcess(workspace, ['deploy', 'stop']);
    workspace[Symbol.dispose]();
  }
});

/**
 * A workspace whose Deployment stage runs `gates` after the quick ones. The p99 threshold is far
 * above what the tiny product needs on a loaded machine, and far below the slow release's 1.5 s.
 */
async function workspaceWithLiveGates(gates: string): Promise<TempWorkspace> {
  const workspace = new TempWorkspace('loki-deploy-gates-');
  workspaces.push(workspace);
  const init = await loki(workspace, ['init']);
  expect(init.exitCode, init.stderr).toBe(0);
  writeDeployableProduct(
    workspace,
    `deployment: [unit-tests, ${gates}]\nthresholds: { maximumP99Milliseconds: 1000 }\n`,
  );
  return workspace;
}

const verdicts = (deployment: Deployment) =>
  deployment.checks.map((check) => `${check.name}:${check.verdict}`);

describe('post-deploy gates on the new release', () => {
  it.skipIf(!HAS_CHROMIUM)(
    'puts an accessible page live, rolls back one with serious axe violations while the old one serves, and alerts',
    async () => {
      await using hook = await startFakeHttpServer((_request, response) => {
        response.writeHead(204).end();
      });
      const workspace = await workspaceWithLiveGates('performance, accessibility');
      writeFileSync(
        join(workspace.root, '.loki', 'config', 'alerting.yaml'),
        `channels:\n  - { name: ops, type: webhook, url: "${hook.url}/loki", secret: "a-signing-secret-for-the-test", minSeverity: warning }\n`,
      );

      commitVersion(workspace, '1', 'page');
      const first = lokiProcess(workspace, ['deploy', '--json']);
      expect(first.exitCode, first.stderr).toBe(0);
      const live = parseJsonOutput<Deployment>(first);
      expect(live.status).toBe('live');
      expect(verdicts(live)).toEqual([
        'health:pass',
        'smoke GET /items:pass',
        'performance:pass',
        'accessibility:pass',
      ]);
      const url = live.url ?? '';
      expect(await fetchText(url)).toContain('version 1');

      commitVersion(workspace, '2', 'inaccessible');
      const second = lokiProcess(workspace, ['deploy', '--json']);
      expect(second.exitCode, second.stderr).toBe(3);
      const rolledBack = parseJsonOutput<Deployment>(second);
      expect(rolledBack).toMatchObject({ version: 'v2', status: 'rolled_back', url });
      expect(verdicts(rolledBack).slice(-1)).toEqual(['accessibility:fail']);
      expect(rolledBack.reason).toMatch(
        /^v2 failed accessibility: \d+ serious\/critical violations: .*html-has-lang/,
      );
      expect(await fetchText(url)).toContain('version 1');

      // The event says why, and so does the history.
      {
        await using opened = await openWorkspace(workspace.root, { clock: systemClock });
        const deployed = (await opened.store.listEvents()).filter(
          (event) => event.type === 'release.deployed',
        );
        expect(deployed.at(-1)?.data).toMatchObject({ version: 'v2', status: 'rolled_back' });
        expect(JSON.stringify(deployed.at(-1)?.data)).toContain('html-has-lang');
      }
      const history = parseJsonOutput<{ version: string; status: string; reason: string | null }[]>(
        await loki(workspace, ['deployments', '--json']),
      );
      expect(history.map((release) => `${release.version}:${release.status}`)).toEqual([
        'v1:live',
        'v2:rolled_back',
      ]);
      expect(history[1]?.reason).toMatch(/accessibility/);

      // `loki deploy` alerts like a run does: a critical alert naming the release and the reason.
      const alert = await pollUntil(
        'the rollback alert',
        () => Promise.resolve(hook.requests.map((request) => request.body as Record<string, unknown>)),
        (bodies) => bodies.some((body) => body.action === 'trigger'),
      );
      expect(alert.find((body) => body.action === 'trigger')).toMatchObject({
        severity: 'critical',
        title: 'Loki deploy rolled back on local',
        event: 'release.deployed',
        runId: null,
      });
      expect(String(alert.find((body) => body.action === 'trigger')?.summary)).toMatch(
        /Release v2 was rolled back: v2 failed accessibility/,
      );
    },
    300_000,
  );

  it('rolls back a release slower than the p99 threshold while the old one serves', async () => {
    const workspace = await workspaceWithLiveGates('performance');
    commitVersion(workspace, '1', 'page');
    const first = lokiProcess(workspace, ['deploy', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    const live = parseJsonOutput<Deployment>(first);
    expect(verdicts(live)).toEqual(['health:pass', 'smoke GET /items:pass', 'performance:pass']);
    expect(live.checks.at(-1)?.detail).toMatch(/^p99 below 1000 ms on 3 routes/);

    commitVersion(workspace, '2', 'slow');
    const second = lokiProcess(workspace, ['deploy', '--json']);
    expect(second.exitCode, second.stderr).toBe(3);
    const rolledBack = parseJsonOutput<Deployment>(second);
    expect(rolledBack).toMatchObject({ version: 'v2', status: 'rolled_back' });
    expect(rolledBack.reason).toMatch(
      /^v2 failed performance: .*\/items p99 \d+ ms.*\(p99 must stay below 1000 ms/,
    );
    expect(await fetchText(live.url ?? '')).toContain('version 1');
  }, 300_000);
});
