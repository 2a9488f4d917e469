import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCloudClis } from '../../../test/fakes/fake-cloud-cli.ts';
import { AppRunnerTarget } from './app-runner.ts';
import { createCliRunner } from './cli-runner.ts';
import type { CloudTarget, Release } from './cloud-target.ts';
import { CloudRunTarget } from './cloud-run.ts';
import { ContainerAppsTarget } from './container-apps.ts';
import { deployAndVerify } from './deploy-and-verify.ts';
import { FlyTarget } from './fly.ts';
import { KubernetesTarget } from './kubernetes.ts';
import { NetlifyTarget } from './netlify.ts';
import { RailwayTarget } from './railway.ts';
import { VercelTarget } from './vercel.ts';

/**
 * Every adapter against fake CLIs on PATH (real processes): the arguments asserted are the
 * documented usage cited in each adapter; the live URL's health is served by a real local server.
 */
const TOKEN = 'tok-0123456789-secret-value';

let fakes: FakeCloudClis;
let workspace: string;
let release: Release;
let server: Server;
let serverUrl: string;
let healthStatus: number;

beforeEach(async () => {
  fakes = new FakeCloudClis();
  workspace = mkdtempSync(join(tmpdir(), 'loki-cloud-release-'));
  release = { version: 'v3', commit: 'abc123', directory: workspace };
  writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n');
  healthStatus = 200;
  server = createServer((request, response) => {
    response.statusCode = request.url === '/health' ? healthStatus : 404;
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  serverUrl = `http://127.0.0.1:${address.port}`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fakes.remove();
  rmSync(workspace, { recursive: true, force: true });
});

/** Platform URLs (https://app.fly.dev...) are answered by the local server: only the path is kept. */
const routedFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : input.toString());
  return fetch(`${serverUrl}${url.pathname}`, init);
};

function runner(extra: Record<string, string> = {}) {
  return createCliRunner({ env: fakes.env(extra) });
}

function verify(target: CloudTarget) {
  return deployAndVerify({
    target,
    release,
    healthPath: '/health',
    fetch: routedFetch,
    healthAttempts: 2,
    healthIntervalMilliseconds: 1,
  });
}

function installDockerThatBuilds(): void {
  fakes.install('docker', [{ args: ['info'] }, { args: ['build'] }, { args: ['push'] }]);
}

describe('Vercel', () => {
  const env = { VERCEL_TOKEN: TOKEN };
  const deployArgs = () => ['deploy', workspace, '--prod', '--yes', '--token', TOKEN];

  it('deploys with the documented flags, reads the URL from stdout and passes its health check', async () => {
    fakes.install('vercel', [
      { args: ['deploy'], stdout: 'Inspect: https://vercel.com/x/1\nhttps://app-v3.vercel.app\n' },
    ]);
    const verdict = await verify(new VercelTarget(runner(env), {}));
    expect(verdict).toMatchObject({ verdict: 'pass', url: 'https://app-v3.vercel.app' });
    expect(fakes.argsOf('vercel')).toEqual([deployArgs()]);
  });

  it('reports a refused deploy without rolling back production, with the token redacted', async () => {
    fakes.install('vercel', [
      { args: ['deploy'], exitCode: 1, stderr: `Error: the token ${TOKEN} is not valid\n` },
    ]);
    const verdict = await verify(new VercelTarget(runner(env), {}));
    expect(verdict).toMatchObject({ verdict: 'fail', rollback: { rolledBack: false } });
    expect(JSON.stringify(verdict)).not.toContain(TOKEN);
    expect(JSON.stringify(verdict)).toContain('[REDACTED]');
    expect(fakes.argsOf('vercel')).toEqual([deployArgs()]);
  });

  it('rolls production back with `vercel rollback` when the live release fails its health check', async () => {
    healthStatus = 500;
    fakes.install('vercel', [
      { args: ['deploy'], stdout: 'https://app-v3.vercel.app\n' },
      { args: ['rollback'] },
    ]);
    const verdict = await verify(new VercelTarget(runner(env), { scope: 'my-team' }));
    expect(verdict).toMatchObject({ verdict: 'fail', rollback: { rolledBack: true } });
    expect(verdict.verdict === 'fail' && verdict.reason).toMatch(/health check .*\/health answered 500/);
    expect(fakes.argsOf('vercel')).toEqual([
      ['deploy', workspace, '--prod', '--yes', '--token', TOKEN, '--scope', 'my-team'],
      ['rollback', '--token', TOKEN, '--scope', 'my-team'],
    ]);
  });
});

describe('Netlify', () => {
  const env = { NETLIFY_AUTH_TOKEN: TOKEN };
  const getSite = ['api', 'getSite', '--data', JSON.stringify({ site_id: 'site-1' })];
  const site = { args: getSite, stdout: JSON.stringify({ published_deploy: { id: 'deploy-old' } }) };

  it('deploys with --prod --json and the token only in the environment', async () => {
    fakes.install('netlify', [
      site,
      {
        args: ['deploy'],
        stdout: JSON.stringify({ deploy_id: 'deploy-new', url: 'https://site-1.netlify.app' }),
      },
    ]);
    const verdict = await verify(new NetlifyTarget(runner(env), { site: 'site-1', dir: 'dist' }));
    expect(verdict).toMatchObject({ verdict: 'pass', url: 'https://site-1.netlify.app' });
    expect(fakes.argsOf('netlify')).toEqual([
      getSite,
      ['deploy', '--prod', '--json', '--dir', join(workspace, 'dist'), '--site', 'site-1'],
    ]);
    expect(fakes.calls().every((call) => call.credentials.includes('NETLIFY_AUTH_TOKEN'))).toBe(true);
    expect(JSON.stringify(fakes.calls())).not.toContain(TOKEN);
  });

  it('restores the previously published deploy when the new one is unhealthy', async () => {
    healthStatus = 503;
    fakes.install('netlify', [
      site,
      {
        args: ['deploy'],
        stdout: JSON.stringify({ deploy_id: 'deploy-new', url: 'https://site-1.netlify.app' }),
      },
      { args: ['api', 'restoreSiteDeploy'] },
    ]);
    const verdict = await verify(new NetlifyTarget(runner(env), { site: 'site-1' }));
    expect(verdict).toMatchObject({ verdict: 'fail', rollback: { rolledBack: true } });
    expect(fakes.argsOf('netlify').at(-1)).toEqual([
      'api',
      'restoreSiteDeploy',
      '--data',
      JSON.stringify({ site_id: 'site-1', deploy_id: 'deploy-old' }),
    ]);
  });

  it('reports a refused deploy with the reason the CLI gave', async () => {
    fakes.install('netlify', [site, { args: ['deploy'], exitCode: 2, stderr: 'Deploy did not succeed\n' }]);
    expect(await verify(new NetlifyTarget(runner(env), { site: 'site-1' }))).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/netlify deploy exited with 2: Deploy did not succeed/),
    });
  });
});

describe('Fly.io', () => {
  const env = { FLY_API_TOKEN: TOKEN };
  const releases = {
    args: ['releases', '--app', 'shop', '--image', '--json'],
    stdout: JSON.stringify([{ Version: 7, ImageRef: 'registry.fly.io/shop:deployment-7' }]),
  };

  it('deploys the release directory remotely and serves https://<app>.fly.dev', async () => {
    fakes.install('flyctl', [releases, { args: ['deploy'] }]);
    const verdict = await verify(new FlyTarget(runner(env), { app: 'shop' }));
    expect(verdict).toMatchObject({ verdict: 'pass', url: 'https://shop.fly.dev' });
    expect(fakes.argsOf('flyctl')).toEqual([
      releases.args,
      ['deploy', workspace, '--app', 'shop', '--remote-only'],
    ]);
  });

  it('rolls back by redeploying the previous release image when a deploy fails halfway', async () => {
    fakes.install('flyctl', [
      releases,
      {
        args: ['deploy', workspace],
        exitCode: 1,
        stderr: 'Error: failed to update machines: health checks failing\n',
      },
      { args: ['deploy', '--app', 'shop', '--image'] },
    ]);
    const verdict = await verify(new FlyTarget(runner(env), { app: 'shop' }));
    expect(verdict).toMatchObject({ verdict: 'fail', rollback: { rolledBack: true } });
    expect(fakes.argsOf('flyctl').at(-1)).toEqual([
      'deploy',
      '--app',
      'shop',
      '--image',
      'registry.fly.io/shop:deployment-7',
    ]);
  });
});

describe('Railway', () => {
  const env = { RAILWAY_TOKEN: TOKEN };
  const settings = { service: 'api', environment: 'production', url: 'https://api.up.railway.app' };

  it('deploys with railway up --ci to the configured service', async () => {
    fakes.install('railway', [{ args: ['up'] }]);
    expect(await verify(new RailwayTarget(runner(env), settings))).toMatchObject({ verdict: 'pass' });
    expect(fakes.argsOf('railway')).toEqual([
      ['up', workspace, '--ci', '--service', 'api', '--environment', 'production'],
    ]);
  });

  it('removes an unhealthy deployment with railway down --yes; a failed build needs no undo', async () => {
    healthStatus = 500;
    fakes.install('railway', [{ args: ['up'] }, { args: ['down'] }]);
    expect(await verify(new RailwayTarget(runner(env), settings))).toMatchObject({
      verdict: 'fail',
      rollback: { rolledBack: true },
    });
    expect(fakes.argsOf('railway').at(-1)).toEqual([
      'down',
      '--service',
      'api',
      '--environment',
      'production',
      '--yes',
    ]);

    fakes.install('railway', [{ args: ['up'], exitCode: 1, stderr: 'Build failed\n' }]);
    expect(await verify(new RailwayTarget(runner(env), settings))).toMatchObject({
      verdict: 'fail',
      rollback: { rolledBack: false },
    });
  });
});

describe('Google Cloud Run', () => {
  const settings = { service: 'web', region: 'europe-west1', project: 'acme' };
  const scope = ['--region=europe-west1', '--project=acme'];
  const describeArgs = ['run', 'services', 'describe', 'web', ...scope, '--format=json'];
  const described = (revision: string) =>
    JSON.stringify({ status: { url: 'https://web-xyz.a.run.app', latestReadyRevisionName: revision } });
  const gcloudRules = (deployExit: number) => [
    { args: ['auth', 'list'], stdout: 'me@example.com\n' },
    { args: describeArgs, stdout: described('web-00001'), once: true },
    {
      args: ['run', 'deploy'],
      exitCode: deployExit,
      stderr: deployExit === 0 ? '' : 'Revision failed to become ready\n',
    },
    { args: describeArgs, stdout: described('web-00002') },
    { args: ['run', 'services', 'update-traffic'] },
  ];

  it('deploys from source and reads the URL from the service', async () => {
    fakes.install('gcloud', gcloudRules(0));
    expect(await verify(new CloudRunTarget(runner(), settings))).toMatchObject({
      verdict: 'pass',
      url: 'https://web-xyz.a.run.app',
    });
    expect(fakes.argsOf('gcloud').slice(1)).toEqual([
      describeArgs,
      ['run', 'deploy', 'web', '--source', workspace, ...scope, '--quiet'],
      describeArgs,
    ]);
  });

  it('sends all traffic back to the previous revision after a failed rollout', async () => {
    fakes.install('gcloud', gcloudRules(1));
    expect(await verify(new CloudRunTarget(runner(), settings))).toMatchObject({
      verdict: 'fail',
      rollback: { rolledBack: true, detail: expect.stringContaining('web-00001') },
    });
    expect(fakes.argsOf('gcloud').at(-1)).toEqual([
      'run',
      'services',
      'update-traffic',
      'web',
      '--to-revisions=web-00001=100',
      ...scope,
      '--quiet',
    ]);
  });
});

describe('AWS App Runner', () => {
  const env = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE12', AWS_SECRET_ACCESS_KEY: TOKEN };
  const arn = 'arn:aws:apprunner:us-east-1:123456789012:service/web/abc';
  const settings = {
    serviceArn: arn,
    region: 'us-east-1',
    imageRepository: '123456789012.dkr.ecr.us-east-1.amazonaws.com/web',
    pollIntervalMilliseconds: 1,
    maxPolls: 5,
  };
  const scope = ['--service-arn', arn, '--region', 'us-east-1'];
  const oldSource = {
    ImageRepository: { ImageIdentifier: `${settings.imageRepository}:v2`, ImageRepositoryType: 'ECR' },
  };
  const awsRules = (finalStatus: string) => [
    {
      args: ['apprunner', 'describe-service'],
      stdout: JSON.stringify({
        Service: { ServiceUrl: 'abc.us-east-1.awsapprunner.com', SourceConfiguration: oldSource },
      }),
    },
    { args: ['apprunner', 'update-service'], stdout: JSON.stringify({ OperationId: 'op-1' }) },
    {
      args: ['apprunner', 'list-operations'],
      stdout: JSON.stringify({ OperationSummaryList: [{ Id: 'op-1', Status: 'IN_PROGRESS' }] }),
      once: true,
    },
    {
      args: ['apprunner', 'list-operations'],
      stdout: JSON.stringify({ OperationSummaryList: [{ Id: 'op-1', Status: finalStatus }] }),
    },
  ];

  it('builds and pushes the image, updates the service and waits for the operation', async () => {
    installDockerThatBuilds();
    fakes.install('aws', awsRules('SUCCEEDED'));
    expect(await verify(new AppRunnerTarget(runner(env), settings))).toMatchObject({
      verdict: 'pass',
      url: 'https://abc.us-east-1.awsapprunner.com',
    });
    const tag = `${settings.imageRepository}:v3`;
    expect(fakes.argsOf('docker')).toEqual([
      ['info', '--format', '{{json .}}'],
      ['build', '--tag', tag, '--file', join(workspace, 'Dockerfile'), workspace],
      ['push', tag],
    ]);
    const newSource = { ImageRepository: { ...oldSource.ImageRepository, ImageIdentifier: tag } };
    expect(fakes.argsOf('aws')).toEqual([
      ['apprunner', 'describe-service', ...scope, '--output', 'json'],
      [
        'apprunner',
        'update-service',
        ...scope,
        '--source-configuration',
        JSON.stringify(newSource),
        '--output',
        'json',
      ],
      ['apprunner', 'list-operations', ...scope, '--output', 'json'],
      ['apprunner', 'list-operations', ...scope, '--output', 'json'],
    ]);
  });

  it('reports a failed rollout that App Runner rolled back itself, without a second rollback', async () => {
    installDockerThatBuilds();
    fakes.install('aws', awsRules('ROLLBACK_SUCCEEDED'));
    expect(await verify(new AppRunnerTarget(runner(env), settings))).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/operation op-1: ended ROLLBACK_SUCCEEDED/),
      rollback: { rolledBack: false },
    });
    expect(fakes.argsOf('aws').filter((args) => args[1] === 'update-service')).toHaveLength(1);
  });
});

describe('Azure Container Apps', () => {
  const settings = { name: 'web', resourceGroup: 'rg-prod', imageRepository: 'acme.azurecr.io/web' };
  const scope = ['--name', 'web', '--resource-group', 'rg-prod'];
  const app = (image: string, state = 'Succeeded') =>
    JSON.stringify({
      properties: {
        provisioningState: state,
        configuration: { ingress: { fqdn: 'web.nicesky-1.westeurope.azurecontainerapps.io' } },
        template: { containers: [{ image }] },
      },
    });

  it('updates the app to the new image; an unhealthy release goes back to the previous image', async () => {
    installDockerThatBuilds();
    healthStatus = 500;
    fakes.install('az', [
      { args: ['account', 'show'] },
      { args: ['containerapp', 'show'], stdout: app('acme.azurecr.io/web:v2') },
      { args: ['containerapp', 'update'], stdout: app('whatever') },
    ]);
    expect(await verify(new ContainerAppsTarget(runner(), settings))).toMatchObject({
      verdict: 'fail',
      url: 'https://web.nicesky-1.westeurope.azurecontainerapps.io',
      rollback: { rolledBack: true },
    });
    expect(fakes.argsOf('az')).toEqual([
      ['account', 'show', '--output', 'none'],
      ['containerapp', 'show', ...scope, '--output', 'json'],
      ['containerapp', 'update', ...scope, '--image', 'acme.azurecr.io/web:v3', '--output', 'json'],
      ['containerapp', 'update', ...scope, '--image', 'acme.azurecr.io/web:v2', '--output', 'json'],
    ]);
  });

  it('is not usable without an Azure login, and says so', async () => {
    fakes.install('az', [{ args: ['account', 'show'], exitCode: 1, stderr: "Please run 'az login'" }]);
    expect(await verify(new ContainerAppsTarget(runner(), settings))).toEqual({
      verdict: 'not-proven',
      reason: expect.stringMatching(/container-apps: .*not logged in to Azure \(run `az login`\)/),
    });
  });
});

describe('Kubernetes', () => {
  const settings = {
    manifests: 'k8s',
    deployment: 'web',
    namespace: 'prod',
    url: 'https://web.example.com',
    rolloutTimeoutSeconds: 120,
  };
  const kubeEnv = () => {
    const kubeconfig = join(fakes.directory, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\n');
    return { KUBECONFIG: kubeconfig };
  };

  it('applies the manifests and waits for the rollout', async () => {
    mkdirSync(join(workspace, 'k8s'));
    fakes.install('kubectl', [
      { args: ['--namespace', 'prod', 'apply'] },
      { args: ['--namespace', 'prod', 'rollout', 'status'] },
    ]);
    expect(await verify(new KubernetesTarget(runner(kubeEnv()), settings))).toMatchObject({
      verdict: 'pass',
    });
    expect(fakes.argsOf('kubectl')).toEqual([
      ['--namespace', 'prod', 'apply', '-f', join(workspace, 'k8s')],
      ['--namespace', 'prod', 'rollout', 'status', 'deployment/web', '--timeout=120s'],
    ]);
  });

  it('undoes a rollout that does not finish', async () => {
    fakes.install('kubectl', [
      { args: ['--namespace', 'prod', 'apply'] },
      {
        args: ['--namespace', 'prod', 'rollout', 'status'],
        exitCode: 1,
        stderr: 'error: deployment "web" exceeded its progress deadline\n',
      },
      { args: ['--namespace', 'prod', 'rollout', 'undo'] },
    ]);
    expect(await verify(new KubernetesTarget(runner(kubeEnv()), settings))).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/exceeded its progress deadline/),
      rollback: { rolledBack: true },
    });
    expect(fakes.argsOf('kubectl').at(-1)).toEqual([
      '--namespace',
      'prod',
      'rollout',
      'undo',
      'deployment/web',
    ]);
  });

  it('is not usable without a kubeconfig, and reports a failed undo instead of hiding it', async () => {
    fakes.install('kubectl', []);
    expect(await verify(new KubernetesTarget(runner(), settings))).toMatchObject({
      verdict: 'not-proven',
      reason: expect.stringMatching(/no kubeconfig/),
    });
    fakes.install('kubectl', [
      { args: ['--namespace', 'prod', 'apply'] },
      { args: ['--namespace', 'prod', 'rollout', 'status'], exitCode: 1 },
      {
        args: ['--namespace', 'prod', 'rollout', 'undo'],
        exitCode: 1,
        stderr: 'error: no rollout history found\n',
      },
    ]);
    expect(await verify(new KubernetesTarget(runner(kubeEnv()), settings))).toMatchObject({
      verdict: 'fail',
      rollback: { rolledBack: false, detail: expect.stringMatching(/rollback failed: .*no rollout history/) },
    });
  });
});
