import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCloudClis } from '../../../test/fakes/fake-cloud-cli.ts';
import { createCliRunner } from './cli-runner.ts';
import { ContainerTarget } from './container.ts';
import { detectContainerEngine } from './container-engine.ts';
import { deployAndVerify } from './deploy-and-verify.ts';

const hostRunner = createCliRunner({ env: process.env });
const hostEngine = await detectContainerEngine(hostRunner);

let workspace: string;

beforeEach(() => {
  workspace = mkdtempSync(join(tmpdir(), 'loki-container-release-'));
});

afterEach(() => {
  rmSync(workspace, { recursive: true, force: true });
});

describe('container target on this machine', () => {
  it.skipIf(hostEngine.usable)('says not-proven, with the reason, when no engine can run here', async () => {
    writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n');
    const target = new ContainerTarget(hostRunner, { project: 'shop', engine: 'auto', port: 3000 });
    const verdict = await deployAndVerify({
      target,
      release: { version: 'v1', commit: 'abc', directory: workspace },
      healthPath: '/health',
    });
    expect(verdict).toEqual({
      verdict: 'not-proven',
      reason: expect.stringMatching(/^container: no usable container engine: (docker|podman) /),
    });
    expect(verdict.verdict === 'not-proven' && verdict.reason).toBe(`container: ${hostEngine.reason}`);
  });

  it.runIf(hostEngine.usable)('builds the Dockerfile, runs it and passes its health check', async () => {
    writeFileSync(
      join(workspace, 'server.js'),
      "require('node:http').createServer((q, r) => r.end('ok')).listen(3000);\n",
    );
    writeFileSync(
      join(workspace, 'Dockerfile'),
      'FROM node:22-alpine\nCOPY server.js /app/\nCMD ["node", "/app/server.js"]\n',
    );
    const target = new ContainerTarget(hostRunner, { project: 'loki-test', engine: 'auto', port: 3000 });
    try {
      const verdict = await deployAndVerify({
        target,
        release: { version: 'v1', commit: 'abc', directory: workspace },
        healthPath: '/',
        healthAttempts: 60,
        healthIntervalMilliseconds: 500,
      });
      expect(verdict).toMatchObject({
        verdict: 'pass',
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      });
    } finally {
      await target.removeAll();
    }
  });
});

describe('container target blue-green (fake engine on PATH)', () => {
  let fakes: FakeCloudClis;
  let server: Server;
  let port: number;
  let healthStatus: number;

  beforeEach(async () => {
    fakes = new FakeCloudClis();
    healthStatus = 200;
    server = createServer((request, response) => {
      response.statusCode = request.url === '/health' ? healthStatus : 404;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    port = address.port;
    fakes.install('docker', [
      { args: ['info'] },
      { args: ['build'] },
      { args: ['rm'] },
      { args: ['run'] },
      { args: ['port'], stdout: `127.0.0.1:${port}\n` },
    ]);
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fakes.remove();
  });

  const deploy = (target: ContainerTarget, version: string) =>
    deployAndVerify({
      target,
      release: { version, commit: 'abc', directory: workspace },
      healthPath: '/health',
      healthAttempts: 2,
      healthIntervalMilliseconds: 1,
    });

  it('starts the new container beside the old one and, when it is unhealthy, goes back to the old one', async () => {
    writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n');
    const target = new ContainerTarget(createCliRunner({ env: fakes.env() }), {
      project: 'My Shop',
      engine: 'docker',
      port: 8080,
    });
    expect(await deploy(target, 'v1')).toMatchObject({ verdict: 'pass', url: `http://127.0.0.1:${port}` });
    healthStatus = 500;
    expect(await deploy(target, 'v2')).toMatchObject({
      verdict: 'fail',
      rollback: { rolledBack: true, detail: expect.stringContaining('serving loki-my-shop-v1 again') },
    });
    expect(await target.status()).toMatchObject({ version: 'v1', detail: 'loki-my-shop-v1' });
    const docker = fakes.argsOf('docker');
    expect(docker).toContainEqual([
      'build',
      '--tag',
      'loki-my-shop:v2',
      '--file',
      join(workspace, 'Dockerfile'),
      workspace,
    ]);
    expect(docker).toContainEqual([
      'run',
      '--detach',
      '--name',
      'loki-my-shop-v2',
      '--label',
      'loki.project=my-shop',
      '--publish',
      '127.0.0.1::8080',
      'loki-my-shop:v2',
    ]);
    expect(docker).toContainEqual(['port', 'loki-my-shop-v2', '8080/tcp']);
    // Once v1 ran, it was never removed (kept warm); the failed v2 was.
    const v1Started = docker.findIndex((args) => args[0] === 'run' && args.includes('loki-my-shop-v1'));
    expect(docker.slice(v1Started)).not.toContainEqual(['rm', '--force', 'loki-my-shop-v1']);
    expect(docker.at(-1)).toEqual(['rm', '--force', 'loki-my-shop-v2']);
  });

  it('refuses a release without a Dockerfile before running any build', async () => {
    const target = new ContainerTarget(createCliRunner({ env: fakes.env() }), {
      project: 'shop',
      engine: 'auto',
      port: 3000,
    });
    expect(await deploy(target, 'v1')).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/has no Dockerfile\. The Deployment agent writes one/),
    });
    expect(fakes.argsOf('docker').some((args) => args[0] === 'build')).toBe(false);
  });
});
