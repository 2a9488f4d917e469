import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeCloudClis } from './fakes/fake-cloud-cli.ts';
import { startFakeHttpServer } from './fakes/fake-http-server.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { commitVersion, writeDeployableProduct } from './support/deploy-fixture.ts';

/**
 * `loki deploy` with a container or cloud target of deploy.yaml: the real adapters spawn fake
 * CLIs on PATH (they record their arguments) and the post-deploy checks hit a real HTTP server
 * standing for the platform's URL. The CLI runs in this process (`loki`, not a child): the server
 * must answer while the deploy waits on it.
 */
interface Deployment {
  version: string;
  target: string;
  status: string;
  url: string | null;
  reason: string | null;
  checks: { name: string; verdict: string }[];
}

interface Release {
  version: string;
  target: string;
  status: string;
  url: string | null;
  reason: string | null;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function workspaceWithFakes(): { workspace: TempWorkspace; fakes: FakeCloudClis; env: NodeJS.ProcessEnv } {
  const workspace = new TempWorkspace('loki-deploy-cloud-');
  const fakes = new FakeCloudClis();
  cleanups.push(
    () => workspace[Symbol.dispose](),
    () => fakes.remove(),
  );
  // The fakes first: a real kubectl or docker on this machine must not answer.
  return { workspace, fakes, env: { PATH: [fakes.directory, process.env.PATH ?? ''].join(delimiter) } };
}

async function initProduct(workspace: TempWorkspace, deployYaml: string): Promise<void> {
  const init = await loki(workspace, ['init']);
  expect(init.exitCode, init.stderr).toBe(0);
  writeDeployableProduct(workspace);
  writeFileSync(join(workspace.root, '.loki', 'config', 'deploy.yaml'), deployYaml);
}

describe('loki deploy to the target of deploy.yaml', () => {
  it('deploys to kubernetes through kubectl, records the release, and rolls back a failed rollout', async () => {
    const { workspace, fakes, env } = workspaceWithFakes();
    await using platform = await startFakeHttpServer((_request, response) => {
      response.writeHead(200).end('ok');
    });
    const kubeconfig = join(fakes.directory, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\n');
    const kubeEnv = { ...env, KUBECONFIG: kubeconfig };
    await initProduct(
      workspace,
      `target: kubernetes\nkubernetes: { manifests: k8s, deployment: web, url: ${platform.url}/ }\n`,
    );
    mkdirSync(join(workspace.root, 'k8s'));
    writeFileSync(join(workspace.root, 'k8s', 'deployment.yaml'), 'kind: Deployment\n');
    commitVersion(workspace, '1');
    fakes.install('kubectl', [{ args: ['apply'] }, { args: ['rollout', 'status'] }]);

    const first = await loki(workspace, ['deploy', '--json'], { env: kubeEnv });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(parseJsonOutput<Deployment>(first)).toMatchObject({
      version: 'v1',
      target: 'kubernetes',
      status: 'live',
      url: platform.url,
      checks: [
        { name: 'health', verdict: 'pass' },
        { name: 'smoke GET /items', verdict: 'pass' },
      ],
    });
    // kubectl's documented usage: apply -f <dir>; rollout status <resource> --timeout=<duration>.
    expect(fakes.argsOf('kubectl')).toEqual([
      ['apply', '-f', join(workspace.root, '.loki', 'releases', 'v1', 'k8s')],
      ['rollout', 'status', 'deployment/web', '--timeout=300s'],
    ]);
    expect(platform.requests.map((request) => request.pathname)).toEqual(['/health', '/items']);

    fakes.install('kubectl', [
      { args: ['apply'] },
      {
        args: ['rollout', 'status'],
        exitCode: 1,
        stderr: 'error: deployment "web" exceeded its progress deadline\n',
      },
      { args: ['rollout', 'undo'] },
    ]);
    commitVersion(workspace, '2');
    const second = await loki(workspace, ['deploy', '--json'], { env: kubeEnv });
    expect(second.exitCode, second.stderr).toBe(3);
    expect(parseJsonOutput<Deployment>(second)).toMatchObject({
      version: 'v2',
      status: 'rolled_back',
      reason: expect.stringMatching(/exceeded its progress deadline.*Rolled back: deployment\/web back on/),
    });
    expect(fakes.argsOf('kubectl').slice(2)).toEqual([
      ['apply', '-f', join(workspace.root, '.loki', 'releases', 'v2', 'k8s')],
      ['rollout', 'status', 'deployment/web', '--timeout=300s'],
      ['rollout', 'undo', 'deployment/web'],
    ]);

    const history = await loki(workspace, ['deployments', '--json'], { env: kubeEnv });
    expect(history.exitCode, history.stderr).toBe(0);
    expect(parseJsonOutput<Release[]>(history)).toMatchObject([
      { version: 'v1', target: 'kubernetes', status: 'live', url: platform.url, reason: null },
      {
        version: 'v2',
        target: 'kubernetes',
        status: 'rolled_back',
        reason: expect.stringMatching(/exceeded its progress deadline/),
      },
    ]);
    const listed = await loki(workspace, ['deployments'], { env: kubeEnv });
    expect(listed.stdout).toMatch(/^v2 +\w+ +kubernetes +rolled_back .*exceeded its progress deadline/m);
    const status = await loki(workspace, ['deploy', 'status', '--json'], { env: kubeEnv });
    expect(parseJsonOutput(status)).toMatchObject({
      isServing: true,
      activeVersion: 'v1',
      url: platform.url,
    });
  });

  it('rolls back to a chosen release by deploying its files again', async () => {
    const { workspace, fakes, env } = workspaceWithFakes();
    await using platform = await startFakeHttpServer((_request, response) => {
      response.writeHead(200).end('ok');
    });
    const kubeconfig = join(fakes.directory, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\n');
    const kubeEnv = { ...env, KUBECONFIG: kubeconfig };
    await initProduct(
      workspace,
      `target: kubernetes\nkubernetes: { manifests: k8s, deployment: web, namespace: prod, url: ${platform.url} }\n`,
    );
    mkdirSync(join(workspace.root, 'k8s'));
    writeFileSync(join(workspace.root, 'k8s', 'deployment.yaml'), 'kind: Deployment\n');
    fakes.install('kubectl', [
      { args: ['--namespace', 'prod', 'apply'] },
      { args: ['--namespace', 'prod', 'rollout', 'status'] },
    ]);
    for (const version of ['1', '2']) {
      commitVersion(workspace, version);
      const deployed = await loki(workspace, ['deploy'], { env: kubeEnv });
      expect(deployed.exitCode, deployed.stderr).toBe(0);
    }

    const rolledBack = await loki(workspace, ['rollback', '--json'], { env: kubeEnv });
    expect(rolledBack.exitCode, rolledBack.stderr).toBe(0);
    expect(parseJsonOutput(rolledBack)).toMatchObject({
      fromVersion: 'v2',
      version: 'v1',
      url: platform.url,
      wasWarm: false,
    });
    expect(fakes.argsOf('kubectl').slice(4)).toEqual([
      ['--namespace', 'prod', 'apply', '-f', join(workspace.root, '.loki', 'releases', 'v1', 'k8s')],
      ['--namespace', 'prod', 'rollout', 'status', 'deployment/web', '--timeout=300s'],
    ]);
    const history = parseJsonOutput<Release[]>(
      await loki(workspace, ['deployments', '--json'], { env: kubeEnv }),
    );
    expect(history.map((release) => `${release.version}:${release.status}`)).toEqual([
      'v1:live',
      'v2:rolled_back',
    ]);
    const stop = await loki(workspace, ['deploy', 'stop'], { env: kubeEnv });
    expect(stop.exitCode).toBe(2);
    expect(stop.stderr).toMatch(/kubernetes target's service runs on its platform/);
  });

  it('says not proven, with the reason and exit 3, when no container engine can run here', async () => {
    const { workspace, fakes, env } = workspaceWithFakes();
    // A docker client without a reachable daemon, as on this machine and most CI runners.
    fakes.install('docker', [
      {
        args: ['info'],
        exitCode: 1,
        stderr:
          'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
      },
    ]);
    await initProduct(workspace, 'target: container\ncontainer: { engine: docker }\n');
    commitVersion(workspace, '1');

    const deployed = await loki(workspace, ['deploy', '--json'], { env });
    expect(deployed.exitCode, deployed.stderr).toBe(3);
    const reason =
      /^the container target cannot deploy from this machine: no usable container engine: docker info failed: Cannot connect to the Docker daemon/;
    expect(parseJsonOutput<Deployment>(deployed)).toMatchObject({
      version: 'v1',
      target: 'container',
      status: 'not_proven',
      url: null,
      checks: [],
      reason: expect.stringMatching(reason),
    });
    // Only the engine check ran: no image was built, no container started.
    expect(fakes.argsOf('docker')).toEqual([['info', '--format', '{{json .}}']]);
    const history = parseJsonOutput<Release[]>(await loki(workspace, ['deployments', '--json'], { env }));
    expect(history).toMatchObject([
      { version: 'v1', target: 'container', status: 'not_proven', reason: expect.stringMatching(reason) },
    ]);
    const text = await loki(workspace, ['deploy'], { env });
    expect(text.exitCode).toBe(3);
    expect(text.stdout).toMatch(/^v2 was not deployed \(not proven\): the container target cannot deploy/m);
  });

  it('refuses canary for a cloud target before building anything', async () => {
    const { workspace, fakes, env } = workspaceWithFakes();
    fakes.install('kubectl', []);
    await initProduct(
      workspace,
      'target: kubernetes\nkubernetes: { manifests: k8s, deployment: web, url: https://shop.example.com }\n',
    );
    commitVersion(workspace, '1');
    const refused = await loki(workspace, ['deploy', '--strategy', 'canary'], { env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/kubernetes target cannot deploy with canary; use --strategy blue-green/);
    expect(fakes.calls()).toEqual([]);
  });
});
