/**
 * The real codex binary runs inside Loki's own sandbox (the arguments of run_command, through
 * wrapInBubblewrap): its commands write the worktree and nothing else, cannot read a credential
 * file under HOME, reach an allowed host and are refused another, and the task still completes
 * through Loki's task_complete. Codex reaches its model API (a fake one on the host's loopback)
 * through Loki's allow-list proxy.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findExecutable } from '../src/doctor/index.ts';
import type { EventDataByType, NewEvent } from '../src/events/index.ts';
import { acceptTaskCompleteInput, lokiToolsCommand } from '../src/mcp/index.ts';
import { runCodex } from '../src/providers/cli/index.ts';
import { type RefusedConnection, SandboxNetwork, wrapInBubblewrap } from '../src/sandbox/index.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import { type FakeOpenAIServer, startFakeOpenAIServer } from './fakes/fake-openai-server.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const API_KEY = 'sk-openai-codex-sandbox-test';
const SECRET_TOKEN = 'npm_codexMustNotReadThis';
const ESCAPE_MARKER = `/etc/loki-codex-escape-${process.pid}`;

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

function dataOf<Type extends keyof EventDataByType>(events: NewEvent[], type: Type): EventDataByType[Type][] {
  return events.filter((event) => event.type === type).map((event) => event.data as EventDataByType[Type]);
}

describe.skipIf(bubblewrapPath === undefined)(
  'Codex inside Loki’s bubblewrap sandbox (bwrap installed)',
  () => {
    let worktree: string;
    let api: FakeOpenAIServer;
    let codexHome: FakeCodexHome;
    const servers: Server[] = [];

    beforeEach(async () => {
      worktree = await mkdtemp(join(tmpdir(), 'loki-codex-sandboxed-'));
      execFileSync('git', ['init', '-q', worktree]);
      api = await startFakeOpenAIServer({
        expectedApiKey: API_KEY,
        defaultReply: { type: 'turn', text: 'Done.' },
      });
      codexHome = new FakeCodexHome(api.baseUrl);
    });

    afterEach(async () => {
      for (const server of servers.splice(0)) {
        server.closeAllConnections();
        server.close();
      }
      codexHome[Symbol.dispose]();
      await api.close();
      await rm(worktree, { recursive: true, force: true });
    });

    it('confines its commands to the worktree, masks credentials, allows listed hosts only, completes', async () => {
      const registry = await startServer('127.0.0.2', 'registry ok');
      const outside = await startServer('127.0.0.3', 'exfiltrated');
      servers.push(registry, outside);
      // HOME is Codex's home here: the credential file sits beside its (writable) state.
      await writeFile(join(codexHome.path, '.npmrc'), `//registry.npmjs.org/:_authToken=${SECRET_TOKEN}\n`);
      const command = [
        'echo inside > inside.txt',
        `touch ${ESCAPE_MARKER}; echo "escape exit=$?"`,
        `curl -sS ${urlOf(registry)}; echo`,
        `curl -sS -w ' %{http_code}' ${urlOf(outside)}; echo`,
        'echo "npmrc=[$(cat "$HOME/.npmrc" 2>&1)]"',
      ].join('; ');
      api.enqueue(
        { type: 'turn', toolCalls: [{ name: 'exec_command', input: { cmd: command } }] },
        {
          type: 'turn',
          toolCalls: [
            {
              name: 'task_complete',
              namespace: 'mcp__loki',
              input: { summary: 'Checked the sandbox', files_changed: ['inside.txt'], tests_run: [] },
            },
          ],
        },
        { type: 'turn', text: 'Reported.' },
      );
      const refused: RefusedConnection[] = [];
      await using network = await SandboxNetwork.start({
        mode: 'registries',
        allowedHosts: ['127.0.0.2', new URL(api.baseUrl).host],
        onRefused: (connection) => refused.push(connection),
      });
      const events: NewEvent[] = [];
      const result = await runCodex({
        prompt: 'Check the sandbox.',
        worktree,
        // Codex's own sandbox cannot start inside Loki's ("bwrap: setting up uid map: Operation not permitted").
        sandboxMode: 'danger-full-access',
        env: {
          PATH: process.env.PATH,
          HOME: codexHome.path,
          CODEX_HOME: codexHome.path,
          OPENAI_API_KEY: API_KEY,
        },
        lokiTools: { ...lokiToolsCommand(['task_complete']), acceptTaskComplete: acceptTaskCompleteInput },
        wrapInvocation: wrapInBubblewrap({
          bubblewrapPath: bubblewrapPath ?? 'bwrap',
          worktree,
          writablePaths: [codexHome.path],
          pathVariable: process.env.PATH,
          network: network.access,
          homeDirectory: codexHome.path,
        }),
        emit: (event) => events.push(event),
        runId: null,
        taskId: 'task-codex-sandboxed',
        timeoutMilliseconds: 120_000,
      });
      expect(result.reason, JSON.stringify({ failure: result.failure, events }, null, 1)).toBe(
        'task_complete',
      );
      expect(result.completion?.summary).toBe('Checked the sandbox');
      expect(await readFile(join(worktree, 'inside.txt'), 'utf8')).toBe('inside\n');
      expect(existsSync(ESCAPE_MARKER)).toBe(false);
      const output = JSON.stringify(dataOf(events, 'agent.tool_result'));
      expect(output).toMatch(/Read-only file system/);
      expect(output).toMatch(/escape exit=1/);
      expect(output).toContain('registry ok');
      expect(output).toMatch(/not in sandbox\.allowedHosts.* 403/);
      expect(output).not.toContain('exfiltrated');
      expect(output).not.toContain(SECRET_TOKEN);
      expect(output).toMatch(/npmrc=\[(|[^\]]*Permission denied)\]/);
      // Codex's own calls home (update checks, analytics) are refused too; the allowed hosts never are.
      const refusedHosts = refused.map((connection) => connection.host);
      expect(refusedHosts).toContain('127.0.0.3');
      expect(refusedHosts).not.toContain('127.0.0.2');
    }, 180_000);
  },
);
