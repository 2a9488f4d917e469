/**
 * The sandbox's network policy end to end, with real bubblewrap, a real `npm install` and local
 * servers on two loopback addresses: 127.0.0.2 is an allowed "registry", 127.0.0.3 a host
 * outside the list. No real internet.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BubblewrapRunner,
  type CommandRequest,
  type RefusedConnection,
  SandboxNetwork,
  type SandboxNetworkMode,
  wrapInBubblewrap,
} from '../src/sandbox/index.ts';
import { describeCommandRunnerConformance } from '../src/sandbox/command-runner-conformance.ts';
import { findExecutable } from '../src/sandbox/find-executable.ts';
import { type FakeNpmRegistry, startFakeNpmRegistry } from './fakes/fake-npm-registry.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const PATH = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;
const ALLOWED_ADDRESS = '127.0.0.2';
const OUTSIDE_ADDRESS = '127.0.0.3';
const SECRET_TOKEN = 'npm_secretTokenThatMustNotLeave';

describe.skipIf(bubblewrapPath === undefined)('sandbox network policy (bubblewrap)', () => {
  let registry: FakeNpmRegistry;
  let outside: Server;
  let outsideRequests = 0;
  let fakeHome: string;
  let worktree: string;

  beforeAll(async () => {
    registry = await startFakeNpmRegistry({
      address: ALLOWED_ADDRESS,
      packageName: 'tiny-greeting',
      exportedText: 'hello from the registry',
    });
    outside = createServer((_request, response) => {
      outsideRequests += 1;
      response.end('exfiltrated');
    });
    outside.listen(0, OUTSIDE_ADDRESS);
    await once(outside, 'listening');
    fakeHome = await realpath(await mkdtemp(join(tmpdir(), 'loki-net-home-')));
    await writeFile(join(fakeHome, '.npmrc'), `//${ALLOWED_ADDRESS}/:_authToken=${SECRET_TOKEN}\n`);
    await mkdir(join(fakeHome, '.ssh'));
    await writeFile(join(fakeHome, '.ssh', 'id_ed25519'), 'PRIVATE KEY');
  });

  afterAll(async () => {
    await registry[Symbol.asyncDispose]();
    outside.closeAllConnections();
    outside.close();
    await rm(fakeHome, { recursive: true, force: true });
  });

  beforeEach(async () => {
    worktree = await realpath(await mkdtemp(join(tmpdir(), 'loki-net-worktree-')));
    await writeFile(join(worktree, 'package.json'), '{"name":"app","version":"1.0.0","private":true}\n');
  });

  afterEach(async () => {
    await rm(worktree, { recursive: true, force: true });
  });

  const outsideUrl = () => `http://${OUTSIDE_ADDRESS}:${String((outside.address() as AddressInfo).port)}/`;
  const npmInstall = () =>
    `npm install ${registry.packageName} --registry ${registry.url} --no-audit --no-fund --no-update-notifier`;
  /** Prints the status and body of a fetch (Node's own, through the proxy the environment names). */
  const fetchScript = (url: string) =>
    `fetch(${JSON.stringify(url)}).then(async (r) => console.log(r.status, await r.text()), (e) => console.log('FAILED', e.cause?.message ?? e.message))`;
  /** Connects straight to the address, ignoring any proxy. */
  const connectScript = (url: string) => {
    const { hostname, port } = new URL(url);
    return `require('node:net').connect(${port}, ${JSON.stringify(hostname)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => console.log('FAILED', e.code))`;
  };

  async function withRunner<T>(
    mode: SandboxNetworkMode,
    use: (runner: BubblewrapRunner, refused: RefusedConnection[]) => Promise<T>,
  ): Promise<T> {
    const refused: RefusedConnection[] = [];
    await using network = await SandboxNetwork.start({
      mode,
      allowedHosts: [ALLOWED_ADDRESS],
      onRefused: (connection) => refused.push(connection),
    });
    const runner = new BubblewrapRunner({
      bubblewrapPath: bubblewrapPath ?? 'bwrap',
      homeDirectory: fakeHome,
      network: network.access,
    });
    return await use(runner, refused);
  }

  function request(command: string): CommandRequest {
    return {
      command,
      cwd: worktree,
      writableDirectory: worktree,
      timeoutMilliseconds: 120_000,
      env: { PATH, HOME: fakeHome },
      allowNetwork: true,
      maxOutputBytes: 256 * 1024,
    };
  }

  it('registries: npm installs from an allowed host; other hosts are refused; credentials are masked', async () => {
    await withRunner('registries', async (runner, refused) => {
      const install = await runner.run(request(npmInstall()));
      expect(install.stderr).not.toMatch(/ERR!/);
      expect(install.exitCode).toBe(0);
      const required = await runner.run(request(`node -p "require('${registry.packageName}')"`));
      expect(required.stdout.trim()).toBe('hello from the registry');

      const before = outsideRequests;
      // Plain HTTP through the proxy (curl sends the absolute URL), then HTTPS (a CONNECT tunnel).
      const plain = await runner.run(request(`curl -sS -w '%{http_code}' ${outsideUrl()}`));
      expect(plain.stdout).toMatch(
        /refused a connection to 127\.0\.0\.3:\d+: .*not in sandbox\.allowedHosts.*403$/s,
      );
      const tunnel = await runner.run(request(`curl -sS ${outsideUrl().replace('http:', 'https:')}`));
      expect(tunnel.stderr).toMatch(/CONNECT tunnel failed, response 403/);
      const direct = await runner.run(
        request(`node -e "${connectScript(outsideUrl()).replaceAll('"', '\\"')}"`),
      );
      expect(direct.stdout).toMatch(/^FAILED/);
      expect(outsideRequests).toBe(before);
      expect(refused).toEqual([
        expect.objectContaining({ host: OUTSIDE_ADDRESS, method: 'GET' }),
        expect.objectContaining({ host: OUTSIDE_ADDRESS, method: 'CONNECT' }),
      ]);

      const secrets = await runner.run(request('cat "$HOME/.npmrc"; ls -A "$HOME/.ssh"'));
      expect(secrets.stdout).toBe('');
    });
  });

  it('none: neither the registry nor any other host is reachable', async () => {
    await withRunner('none', async (runner) => {
      const before = registry.requests.length;
      const install = await runner.run(request(`${npmInstall()} --fetch-retries=0`));
      expect(install.exitCode).not.toBe(0);
      const direct = await runner.run(
        request(`node -e "${connectScript(outsideUrl()).replaceAll('"', '\\"')}"`),
      );
      expect(direct.stdout).toMatch(/^FAILED/);
      expect(registry.requests.length).toBe(before);
      await expect(access(join(worktree, 'node_modules', registry.packageName))).rejects.toThrow();
    });
  });

  it('full: the host network reaches the registry and the other host alike', async () => {
    await withRunner('full', async (runner) => {
      const install = await runner.run(request(npmInstall()));
      expect(install.exitCode).toBe(0);
      const before = outsideRequests;
      const fetched = await runner.run(
        request(`node -e "${fetchScript(outsideUrl()).replaceAll('"', '\\"')}"`),
      );
      expect(fetched.stdout.trim()).toBe('200 exfiltrated');
      expect(outsideRequests).toBe(before + 1);
    });
  });

  it('an agent CLI wrapped in the sandbox gets the same policy and the same masks', async () => {
    {
      const refused: RefusedConnection[] = [];
      // Any program stands in for the CLI: what matters is the sandbox around it.
      await using network = await SandboxNetwork.start({
        mode: 'registries',
        allowedHosts: [ALLOWED_ADDRESS],
        onRefused: (connection) => refused.push(connection),
      });
      const wrap = wrapInBubblewrap({
        bubblewrapPath: bubblewrapPath ?? 'bwrap',
        worktree,
        writablePaths: [],
        pathVariable: PATH,
        network: network.access,
        homeDirectory: fakeHome,
      });
      const script = [
        `curl -sS ${registry.url}${registry.packageName}; echo`,
        `curl -sS -w ' %{http_code}' ${outsideUrl()}`,
        `curl -sS ${outsideUrl().replace('http:', 'https:')} 2>&1`,
        'echo "NPMRC [$(cat "$HOME/.npmrc" 2>&1)]"',
      ].join('\n');
      const invocation = wrap({ executable: 'sh', arguments: ['-c', script] });
      const output = await runToEnd(invocation.executable, invocation.arguments, { PATH, HOME: fakeHome });
      expect(output).toContain(`{"name":"${registry.packageName}"`);
      expect(output).toMatch(/not in sandbox\.allowedHosts.* 403/s);
      expect(output).toMatch(/CONNECT tunnel failed, response 403/);
      expect(output).toMatch(/NPMRC \[(|.*Permission denied)\]/);
      expect(output).not.toContain(SECRET_TOKEN);
      expect(refused.map((connection) => connection.method)).toEqual(['GET', 'CONNECT']);
    }
  });
});

async function runToEnd(
  executable: string,
  argumentsList: string[],
  env: Record<string, string>,
): Promise<string> {
  const child = spawn(executable, argumentsList, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await once(child, 'close');
  return output;
}

describe.skipIf(bubblewrapPath === undefined)('the registries network keeps every runner promise', () => {
  let network: SandboxNetwork;
  beforeAll(async () => {
    network = await SandboxNetwork.start({ mode: 'registries', allowedHosts: [ALLOWED_ADDRESS] });
  });
  afterAll(async () => {
    await network[Symbol.asyncDispose]();
  });
  // The forwarder runs beside every command here: the suite's process checks cover it too.
  describeCommandRunnerConformance(
    'bubblewrap with the registries network',
    () => new BubblewrapRunner({ bubblewrapPath: bubblewrapPath ?? 'bwrap', network: network.access }),
    { allowNetwork: true },
  );
});
