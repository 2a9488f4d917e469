/**
 * Claude Code itself runs in the sandbox under the run's network policy: it reaches its model API
 * (the fake one, on the host's loopback) through Loki's proxy, and its Bash tool reaches an
 * allowed host, is refused another, and cannot read a credential file under HOME.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findExecutable } from '../src/doctor/index.ts';
import type { NewEvent } from '../src/events/index.ts';
import { runClaudeCode } from '../src/providers/index.ts';
import { type RefusedConnection, SandboxNetwork, wrapInBubblewrap } from '../src/sandbox/index.ts';
import {
  CLAUDE_CODE_EXECUTABLE,
  type ClaudeCodeFakeApi,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { fakeReply } from './fakes/fake-reply.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const SECRET_TOKEN = 'npm_claudeCodeMustNotReadThis';

async function startServer(address: string, body: string): Promise<Server> {
  const server = createServer((_request, response) => response.end(body));
  server.listen(0, address);
  await once(server, 'listening');
  return server;
}

const urlOf = (server: Server) => {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address}:${String(port)}/`;
};

describe.skipIf(bubblewrapPath === undefined)(
  'Claude Code under the registries network (bwrap installed)',
  () => {
    let api: ClaudeCodeFakeApi | undefined;
    const servers: Server[] = [];
    afterEach(async () => {
      await api?.close();
      api = undefined;
      for (const server of servers.splice(0)) {
        server.closeAllConnections();
        server.close();
      }
    });

    it('reaches its API and allowed hosts only, and its Bash tool cannot read credentials', async () => {
      const worktree = await mkdtemp(join(tmpdir(), 'loki-claude-network-'));
      await using home = await createClaudeCodeHome();
      try {
        const registry = await startServer('127.0.0.2', 'registry ok');
        const outside = await startServer('127.0.0.3', 'exfiltrated');
        servers.push(registry, outside);
        await writeFile(join(home.path, '.npmrc'), `//registry.npmjs.org/:_authToken=${SECRET_TOKEN}\n`);
        api = await startClaudeCodeFakeApi();
        api.enqueue(
          fakeReply.toolCall('Bash', {
            command: [
              `curl -sS ${urlOf(registry)}; echo`,
              `curl -sS -w ' %{http_code}' ${urlOf(outside)}`,
              'echo "npmrc=[$(cat "$HOME/.npmrc" 2>&1)]"',
            ].join('; '),
            description: 'reach an allowed host, another host, and a credential file',
          }),
          fakeReply.text('Done.'),
        );
        const refused: RefusedConnection[] = [];
        await using network = await SandboxNetwork.start({
          mode: 'registries',
          allowedHosts: ['127.0.0.2', new URL(api.baseUrl).hostname],
          onRefused: (connection) => refused.push(connection),
        });
        const events: NewEvent[] = [];
        const result = await runClaudeCode({
          prompt: 'Check the network',
          worktree,
          permissionMode: 'bypassPermissions',
          allowedTools: ['Bash'],
          maxTurns: 5,
          env: home.environment(api),
          executablePath: CLAUDE_CODE_EXECUTABLE,
          emit: (event) => events.push(event),
          runId: null,
          taskId: 'task-network',
          timeoutMilliseconds: 25_000,
          wrapInvocation: wrapInBubblewrap({
            bubblewrapPath: bubblewrapPath ?? 'bwrap',
            worktree,
            writablePaths: [home.path],
            pathVariable: process.env.PATH,
            network: network.access,
            homeDirectory: home.path,
          }),
        });
        expect(result.reason).toBe('task_complete');
        const bashResult = JSON.stringify(events.find((event) => event.type === 'agent.tool_result')?.data);
        expect(bashResult).toContain('registry ok');
        expect(bashResult).toMatch(/not in sandbox\.allowedHosts.* 403/);
        expect(bashResult).not.toContain('exfiltrated');
        expect(bashResult).not.toContain(SECRET_TOKEN);
        expect(bashResult).toMatch(/npmrc=\[(|[^\]]*Permission denied)\]/);
        expect(refused.map((connection) => connection.host)).toEqual(['127.0.0.3']);
      } finally {
        await rm(worktree, { recursive: true, force: true });
      }
    }, 60_000);
  },
);
