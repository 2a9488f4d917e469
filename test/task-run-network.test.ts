/**
 * `loki task run` end to end with the default network policy (`registries`): the agent's
 * run_command installs a package from an allowed registry (a fake npm registry on 127.0.0.2),
 * and a connection to a host outside the list (127.0.0.3) is refused with a warning naming it.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findExecutable } from '../src/sandbox/find-executable.ts';
import { type FakeNpmRegistry, startFakeNpmRegistry } from './fakes/fake-npm-registry.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);

describe.skipIf(bubblewrapPath === undefined)('loki task run under the registries network', () => {
  let registry: FakeNpmRegistry;
  let outside: Server;
  let outsideRequests = 0;
  let workspace: TempWorkspace;

  beforeAll(async () => {
    registry = await startFakeNpmRegistry({
      address: '127.0.0.2',
      packageName: 'tiny-greeting',
      exportedText: 'hello from the registry',
    });
    outside = createServer((_request, response) => {
      outsideRequests += 1;
      response.end('exfiltrated');
    });
    outside.listen(0, '127.0.0.3');
    await once(outside, 'listening');
  });

  afterAll(async () => {
    await registry[Symbol.asyncDispose]();
    outside.closeAllConnections();
    outside.close();
  });

  beforeEach(async () => {
    workspace = new TempWorkspace('loki-task-network-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    writeFileSync(join(workspace.root, 'package.json'), '{"name":"app","version":"1.0.0","private":true}\n');
    return () => workspace[Symbol.dispose]();
  });

  function runTask(env: NodeJS.ProcessEnv) {
    const outsideUrl = `http://127.0.0.3:${String((outside.address() as AddressInfo).port)}/`;
    const steps = [
      {
        toolCalls: [
          {
            toolName: 'run_command',
            input: {
              command: `npm install ${registry.packageName} --registry ${registry.url} --no-audit --no-fund --fetch-retries=0`,
            },
          },
        ],
      },
      { toolCalls: [{ toolName: 'run_command', input: { command: `curl -sS ${outsideUrl}` } }] },
      {
        toolCalls: [
          {
            toolName: 'task_complete',
            input: { summary: 'dependency installed', files_changed: ['package.json'], tests_run: [] },
          },
        ],
      },
    ];
    writeFileSync(join(workspace.root, 'script.json'), JSON.stringify(steps));
    return loki(
      workspace,
      [
        'task',
        'run',
        'Add tiny-greeting',
        '--provider',
        'scripted',
        '--script',
        'script.json',
        '--max-attempts',
        '1',
        '--verify',
        `node -p "require('${registry.packageName}')" | grep -q "hello from the registry"`,
      ],
      { env },
    );
  }

  it(
    'installs from an allowed registry and refuses other hosts, naming them',
    { timeout: 120_000 },
    async () => {
      const before = outsideRequests;
      const result = await runTask({ LOKI_SANDBOX_ALLOWED_HOSTS: '127.0.0.2' });
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toMatch(
        /warning: Loki's sandbox refused a connection to 127\.0\.0\.3:\d+: .*sandbox\.allowedHosts/,
      );
      expect(outsideRequests).toBe(before);
    },
  );

  it('with sandbox.network none the install fails and so does the task', { timeout: 120_000 }, async () => {
    const result = await runTask({ LOKI_SANDBOX_NETWORK: 'none', LOKI_SANDBOX_ALLOWED_HOSTS: '127.0.0.2' });
    expect(result.exitCode).not.toBe(0);
  });
});
