import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLAUDE_CODE_EXECUTABLE,
  type ClaudeCodeFakeApi,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun } from './support/run-harness.ts';
import { lokiSkillMarkdown } from '../src/skill/index.ts';
import { REPOSITORY_ROOT } from './support/cli-harness.ts';

let api: ClaudeCodeFakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** Waits for the workspace's run to end, so that nothing of it outlives the test's directories. */
async function waitForRunEnd(workspace: TempWorkspace): Promise<{ id: string; status: string }> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (existsSync(join(workspace.root, '.loki', 'loki.db'))) {
      const status = parseJsonOutput<{ run: { id: string; status: string } | null }>(
        await loki(workspace, ['status', '--json']),
      );
      if (status.run !== null && ['completed', 'failed', 'stopped'].includes(status.run.status))
        return status.run;
    }
    if (Date.now() > deadline) throw new Error('the run started from Claude Code did not end');
    await delay(250);
  }
}

describe('the loki-mode skill in the real Claude Code (fake Anthropic API)', () => {
  it('after loki skill install --project, Claude Code offers the skill and the loki tools, and the start tool starts a run', async () => {
    using workspace = new TempWorkspace('loki-skill-');
    await using home = await createClaudeCodeHome();
    prepareRun(workspace, {
      tasks: [{ id: 'alpha', files: { 'files/alpha.txt': 'alpha\n' } }],
      verifyCommands: ['test -f files/alpha.txt'],
    });
    const installed = await loki(workspace, ['skill', 'install', '--project']);
    expect(installed.exitCode, installed.stderr).toBe(0);

    api = await startClaudeCodeFakeApi();
    // As a model does when the tools it needs are still connecting: wait for the loki server, then
    // call its start tool.
    api.enqueue(
      fakeReply.toolCall('WaitForMcpServers', { servers: ['loki'] }),
      fakeReply.toolCall('mcp__loki__start_run', {
        prd: 'prd.md',
        provider: 'scripted',
        script: 'session.json',
      }),
      fakeReply.text('Loki Mode is building your product in the background.'),
    );
    const { stdout } = await promisify(execFile)(
      CLAUDE_CODE_EXECUTABLE,
      [
        '-p',
        'Loki Mode with PRD at ./prd.md',
        '--output-format',
        'json',
        '--allowedTools',
        'mcp__loki__start_run',
      ],
      {
        cwd: workspace.root,
        env: {
          ...workspace.env,
          ...home.environment(api),
          // The session offers MCP tools with their schemas (not deferred behind ToolSearch), so the
          // script calls the start tool directly once the server is connected.
          ENABLE_TOOL_SEARCH: 'false',
        },
      },
    );
    expect((JSON.parse(stdout) as { result: string }).result).toContain('building your product');

    const [first, afterWaiting, afterStart] = api.conversationRequests();
    // The skill is listed from the first call on; the loki tools once the server is connected.
    expect(JSON.stringify(first?.body)).toContain('- loki-mode: Runs Loki Mode');
    const offered = (afterWaiting?.body as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    expect(offered).toEqual(
      expect.arrayContaining(['mcp__loki__start_run', 'mcp__loki__status', 'mcp__loki__read_report']),
    );
    // The tool's answer went back to the model: the run id it started.
    const toolResult = JSON.stringify(afterStart?.body);
    expect(toolResult).toMatch(/Started run run-/);

    const run = await waitForRunEnd(workspace);
    expect(toolResult).toContain(run.id);
    expect(run.status).toBe('completed');
  }, 300_000);

  it('uninstall leaves the project as it was', async () => {
    using workspace = new TempWorkspace('loki-skill-');
    const before = '{\n  "mcpServers": { "other": { "command": "other-server" } }\n}\n';
    writeFileSync(join(workspace.root, '.mcp.json'), before);
    mkdirSync(join(workspace.root, '.claude'));
    writeFileSync(
      join(workspace.root, '.claude', 'settings.local.json'),
      '{"enabledMcpjsonServers":["other"]}',
    );
    expect((await loki(workspace, ['skill', 'install', '--project'])).exitCode).toBe(0);
    const mcpJson = JSON.parse(readFileSync(join(workspace.root, '.mcp.json'), 'utf8')) as {
      mcpServers: Record<string, unknown>;
    };
    expect(Object.keys(mcpJson.mcpServers)).toEqual(['other', 'loki']);
    expect(readFileSync(join(workspace.root, '.claude', 'skills', 'loki-mode', 'SKILL.md'), 'utf8')).toMatch(
      /^---\nname: loki-mode\n/,
    );
    // A second install replaces the first; one uninstall then takes everything out.
    expect((await loki(workspace, ['skill', 'install', '--project'])).exitCode).toBe(0);
    expect((await loki(workspace, ['skill', 'uninstall', '--project'])).exitCode).toBe(0);
    expect(readFileSync(join(workspace.root, '.mcp.json'), 'utf8')).toBe(before);
    expect(readFileSync(join(workspace.root, '.claude', 'settings.local.json'), 'utf8')).toBe(
      '{"enabledMcpjsonServers":["other"]}',
    );
    expect(readdirSync(join(workspace.root, '.claude'))).toEqual(['settings.local.json']);
    expect(readdirSync(workspace.root).sort()).toEqual(['.claude', '.mcp.json']);
  });

  it('ships as a Claude Code plugin: manifest, the same skill, the loki MCP server', () => {
    const manifest = JSON.parse(
      readFileSync(join(REPOSITORY_ROOT, '.claude-plugin', 'plugin.json'), 'utf8'),
    ) as {
      name: string;
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    expect(manifest.name).toBe('loki-mode');
    expect(manifest.mcpServers.loki).toEqual({
      command: 'node',
      args: ['${CLAUDE_PLUGIN_ROOT}/bin/loki.js', 'mcp'],
    });
    expect(readFileSync(join(REPOSITORY_ROOT, 'skills', 'loki-mode', 'SKILL.md'), 'utf8')).toBe(
      lokiSkillMarkdown(),
    );
  });

  it('--user registers the server with the real claude mcp add, and uninstall removes it with claude mcp remove', async () => {
    using workspace = new TempWorkspace('loki-skill-');
    await using home = await createClaudeCodeHome();
    const configDirectory = join(home.path, '.claude');
    const env = {
      HOME: home.path,
      CLAUDE_CONFIG_DIR: configDirectory,
      PATH: `${dirname(CLAUDE_CODE_EXECUTABLE)}${delimiter}${process.env.PATH ?? ''}`,
    };
    const installed = await loki(workspace, ['skill', 'install', '--user'], { env });
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stdout).toContain('claude mcp add --scope user');
    expect(existsSync(join(configDirectory, 'skills', 'loki-mode', 'SKILL.md'))).toBe(true);
    const claudeMcp = (...args: string[]) =>
      promisify(execFile)(CLAUDE_CODE_EXECUTABLE, ['mcp', ...args], {
        cwd: workspace.root,
        env: { ...workspace.env, ...env },
      });
    expect((await claudeMcp('get', 'loki')).stdout).toContain('loki.js mcp');

    expect((await loki(workspace, ['skill', 'uninstall', '--user'], { env })).exitCode).toBe(0);
    await expect(claudeMcp('get', 'loki')).rejects.toThrow();
    expect(existsSync(join(configDirectory, 'skills'))).toBe(false);
  }, 120_000);

  it('--user without Claude Code on the PATH writes its user configuration, merged', async () => {
    using workspace = new TempWorkspace('loki-skill-');
    const configDirectory = join(workspace.home, '.claude');
    mkdirSync(configDirectory);
    const before = '{"numStartups":3,"mcpServers":{"other":{"command":"other-server"}}}';
    writeFileSync(join(configDirectory, '.claude.json'), before);
    const env = { HOME: workspace.home, CLAUDE_CONFIG_DIR: configDirectory, PATH: '/usr/bin:/bin' };
    expect((await loki(workspace, ['skill', 'install', '--user'], { env })).exitCode).toBe(0);
    const config = JSON.parse(readFileSync(join(configDirectory, '.claude.json'), 'utf8')) as {
      numStartups: number;
      mcpServers: Record<string, { args: string[] }>;
    };
    expect(config.numStartups).toBe(3);
    expect(config.mcpServers.loki?.args.slice(-1)).toEqual(['mcp']);
    expect((await loki(workspace, ['skill', 'uninstall', '--user'], { env })).exitCode).toBe(0);
    expect(readFileSync(join(configDirectory, '.claude.json'), 'utf8')).toBe(before);
    expect(readdirSync(configDirectory)).toEqual(['.claude.json']);
  });
});
