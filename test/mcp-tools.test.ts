import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from './support/cli-harness.ts';

const LOKI = join(REPOSITORY_ROOT, 'bin', 'loki.js');

let directory: string;
let client: Client | undefined;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'loki-mcp-tools-'));
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  await rm(directory, { recursive: true, force: true });
});

/** The official MCP client starts the built CLI the way an agent CLI does. */
async function connect(commandArguments: string[]): Promise<Client> {
  client = new Client({ name: 'loki-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [LOKI, 'mcp-tools', ...commandArguments],
      cwd: directory,
      env: { PATH: process.env.PATH ?? '' },
      stderr: 'pipe',
    }),
  );
  return client;
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as { type: string; text?: string }[];
  return content.map((block) => block.text ?? '').join('\n');
}

const requirements = {
  requirements: [
    {
      id: 'REQ-001',
      title: 'Greets',
      description: 'Prints a greeting.',
      acceptanceCriteria: ['prints hello'],
      kind: 'functional',
      priority: 'must',
    },
  ],
  assumptions: [],
};

describe('loki mcp-tools (official MCP client over stdio against the built CLI)', () => {
  it('serves task_complete by default and answers calls with the API path validation', async () => {
    const mcp = await connect([]);
    expect(mcp.getServerVersion()?.name).toBe('loki');
    const { tools } = await mcp.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['task_complete']);
    expect(tools[0]?.inputSchema.required).toEqual(['summary', 'files_changed', 'tests_run']);

    const accepted = await mcp.callTool({
      name: 'task_complete',
      arguments: { summary: 'Wrote hello.txt', files_changed: ['hello.txt'], tests_run: [] },
    });
    expect(accepted.isError).toBe(false);
    expect(textOf(accepted)).toBe('Task marked complete; the harness will now verify it.');

    const refused = await mcp.callTool({ name: 'task_complete', arguments: { summary: '' } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('Invalid input for task_complete:');
    expect(textOf(refused)).toContain('- summary:');
    expect(textOf(refused)).toContain('- files_changed:');

    const unknown = await mcp.callTool({ name: 'submit_requirements', arguments: requirements });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain('this session offers task_complete');
  });

  it('serves the planning submissions a session asks for, checked against its context file', async () => {
    await writeFile(
      join(directory, 'context.json'),
      JSON.stringify({ requirements, existingTaskIds: ['setup'] }),
    );
    const mcp = await connect([
      '--tools',
      'submit_requirements,submit_architecture,submit_improvements',
      '--context',
      'context.json',
    ]);
    const { tools } = await mcp.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      'submit_requirements',
      'submit_architecture',
      'submit_improvements',
    ]);

    const valid = await mcp.callTool({ name: 'submit_requirements', arguments: requirements });
    expect(textOf(valid)).toBe('accepted 1 requirements');
    expect(valid.isError).toBe(false);

    const invalid = await mcp.callTool({
      name: 'submit_improvements',
      arguments: {
        rationale: 'more',
        tasks: [
          {
            id: 'setup',
            agentType: 'eng-backend',
            title: 'Again',
            description: 'Clashes with an existing task.',
            acceptanceCriteria: ['works'],
            requirementIds: ['REQ-009'],
            dependencies: [],
            priority: 5,
            complexity: 'simple',
            verifyCommands: [],
            touches: [],
          },
        ],
      },
    });
    expect(invalid.isError).toBe(true);
    expect(textOf(invalid)).toMatch(/^The submission is invalid \(2 problems\):/);
    expect(textOf(invalid)).toContain('tasks[0].id: "setup" already exists');
    expect(textOf(invalid)).toContain('unknown requirement REQ-009');
    expect(textOf(invalid)).toContain('call submit_improvements again');
  });
});
