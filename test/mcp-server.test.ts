import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun } from './support/run-harness.ts';

const LOKI = join(REPOSITORY_ROOT, 'bin', 'loki.js');
const INSPECTOR = join(
  REPOSITORY_ROOT,
  'node_modules',
  '@modelcontextprotocol',
  'inspector',
  'clients',
  'launcher',
  'build',
  'index.js',
);

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

/** The official MCP client starts the built `loki mcp` in the workspace, as an MCP client would. */
async function connect(workspace: TempWorkspace): Promise<Client> {
  client = new Client({ name: 'loki-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [LOKI, 'mcp'],
      cwd: workspace.root,
      env: workspace.env as Record<string, string>,
      stderr: 'pipe',
    }),
  );
  return client;
}

type ToolResult = Awaited<ReturnType<Client['callTool']>>;

function textOf(result: ToolResult): string {
  return (result.content as { type: string; text?: string }[]).map((block) => block.text ?? '').join('\n');
}

/** The JSON a tool answers after its summary line. */
function dataOf<T>(result: ToolResult): T {
  const text = textOf(result);
  return JSON.parse(text.slice(text.indexOf('\n\n') + 2)) as T;
}

async function pollStatus(mcp: Client, isDone: (status: string) => boolean): Promise<string> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const result = await mcp.callTool({ name: 'status', arguments: {} });
    const status = dataOf<{ run: { status: string } | null }>(result).run?.status ?? 'none';
    if (isDone(status)) return status;
    if (Date.now() > deadline) throw new Error(`the run is still ${status}: ${textOf(result)}`);
    await delay(250);
  }
}

const ENDED = new Set(['completed', 'failed', 'stopped']);

describe('loki mcp (official MCP client over stdio against the built CLI)', () => {
  it('lists its tools with their input schemas', async () => {
    using workspace = new TempWorkspace('loki-mcp-');
    const mcp = await connect(workspace);
    expect(mcp.getServerVersion()?.name).toBe('loki');
    const { tools } = await mcp.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'add_task',
      'cancel_task',
      'continue_run',
      'list_tasks',
      'pause_run',
      'prioritize_task',
      'read_report',
      'resume_run',
      'retry_task',
      'show_task',
      'start_run',
      'status',
      'stop_run',
    ]);
    const start = tools.find((tool) => tool.name === 'start_run');
    expect(start?.inputSchema.required).toEqual(['prd']);
    expect(start?.inputSchema.properties?.provider).toMatchObject({
      enum: expect.arrayContaining(['scripted']),
    });
    const prioritize = tools.find((tool) => tool.name === 'prioritize_task');
    expect(prioritize?.inputSchema.properties?.priority).toMatchObject({ minimum: 1, maximum: 10 });
  });

  it('starts a scripted run in the background, follows it to completion and reads its report and resources', async () => {
    using workspace = new TempWorkspace('loki-mcp-');
    const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });
    prepareRun(workspace, {
      tasks: [
        { id: 'alpha', files: files('alpha') },
        { id: 'beta', files: files('beta'), dependencies: ['alpha'] },
      ],
      verifyCommands: ['test -f files/beta.txt'],
      latencyMilliseconds: 50,
    });
    const mcp = await connect(workspace);
    expect(textOf(await mcp.callTool({ name: 'status', arguments: {} }))).toContain('start_run on a PRD');

    const started = await mcp.callTool({
      name: 'start_run',
      arguments: { prd: 'prd.md', provider: 'scripted', script: 'session.json', parallel: 2 },
    });
    expect(started.isError, textOf(started)).toBeFalsy();
    const { runId, logFile } = dataOf<{ runId: string; logFile: string }>(started);
    expect(runId).toMatch(/^run-/);
    expect(logFile).toMatch(/^\.loki\/logs\//);

    expect(await pollStatus(mcp, (status) => ENDED.has(status))).toBe('completed');

    const tasks = dataOf<{ tasks: { id: string; status: string }[] }>(
      await mcp.callTool({ name: 'list_tasks', arguments: { statuses: ['completed'] } }),
    ).tasks;
    expect(tasks.map((task) => task.id)).toEqual(expect.arrayContaining(['alpha', 'beta']));
    const shown = await mcp.callTool({ name: 'show_task', arguments: { taskId: 'alpha' } });
    expect(textOf(shown)).toContain('alpha is completed');

    const report = await mcp.callTool({ name: 'read_report', arguments: {} });
    expect(report.isError).toBeFalsy();
    expect(textOf(report)).toContain(runId);
    const resource = await mcp.readResource({ uri: 'loki://report/latest' });
    expect(resource.contents[0]).toMatchObject({ mimeType: 'text/markdown' });
    expect((resource.contents[0] as { text: string }).text).toBe(textOf(report));
    const continuity = await mcp.readResource({ uri: 'loki://continuity' });
    expect((continuity.contents[0] as { text: string }).text.length).toBeGreaterThan(0);
    const { resources } = await mcp.listResources();
    expect(resources.map((entry) => entry.uri)).toContain('loki://specs/prd.md');
    const prd = await mcp.readResource({ uri: 'loki://specs/prd.md' });
    expect((prd.contents[0] as { text: string }).text).toContain('# Files product');
    await expect(mcp.readResource({ uri: 'loki://specs/..%2Floki.db' })).rejects.toThrow(/no spec named/);

    // A completed workspace has nothing more to do: the tool says so rather than starting anything.
    const again = await mcp.callTool({
      name: 'start_run',
      arguments: { prd: 'prd.md', provider: 'scripted', script: 'session.json' },
    });
    expect(textOf(again)).toContain(`Nothing was started: run ${runId} is completed`);
  }, 240_000);

  it('answers bad calls with tool errors that say what to do', async () => {
    using workspace = new TempWorkspace('loki-mcp-');
    const mcp = await connect(workspace);
    const missingPrd = await mcp.callTool({ name: 'start_run', arguments: { prd: 'nope.md' } });
    expect(missingPrd.isError).toBe(true);
    expect(textOf(missingPrd)).toMatch(/^PRD_NOT_FOUND: /);
    expect(existsSync(join(workspace.root, '.loki'))).toBe(false);

    const invalid = await mcp.callTool({ name: 'prioritize_task', arguments: { taskId: 'x', priority: 11 } });
    expect(invalid.isError).toBe(true);
    expect(textOf(invalid)).toContain('priority');

    const noReport = await mcp.callTool({ name: 'read_report', arguments: {} });
    expect(noReport.isError).toBe(true);
    expect(textOf(noReport)).toMatch(/^RUN_REPORT_MISSING: .*loki run <prd>/);

    const pause = await mcp.callTool({ name: 'pause_run', arguments: {} });
    expect(pause.isError).toBe(true);
  });

  it('is driven by the MCP Inspector CLI: tools listed, status called', async () => {
    using workspace = new TempWorkspace('loki-mcp-');
    const inspect = (...args: string[]) =>
      promisify(execFile)(process.execPath, [INSPECTOR, '--cli', process.execPath, LOKI, 'mcp', ...args], {
        cwd: workspace.root,
        env: workspace.env,
      });
    const listed = JSON.parse((await inspect('--method', 'tools/list')).stdout) as {
      tools: { name: string }[];
    };
    expect(listed.tools.map((tool) => tool.name)).toContain('start_run');
    const status = JSON.parse((await inspect('--method', 'tools/call', '--tool-name', 'status')).stdout) as {
      content: { text: string }[];
      isError?: boolean;
    };
    expect(status.isError ?? false).toBe(false);
    expect(status.content[0]?.text).toContain('No Loki Mode workspace');
  }, 120_000);
});
