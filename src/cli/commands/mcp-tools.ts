import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { usageError } from '../../errors/index.ts';
import type { LokiAgentToolName, LokiToolContext } from '../../mcp/index.ts';
import type { CliContext } from '../cli-context.ts';
import { LOKI_VERSION } from '../version.ts';

/**
 * `loki mcp-tools`: Loki's agent tools as a stdio MCP server named `loki`, for agent CLIs (Codex
 * starts it from its `mcp_servers` configuration). stdout carries the protocol, so the command
 * prints nothing else there.
 */
export function registerMcpToolsCommand(program: Command, context: CliContext): void {
  program
    .command('mcp-tools')
    .description(
      "serve Loki's agent tools (task_complete, planning submissions) as a stdio MCP server named loki",
    )
    .addOption(
      // Checked in the action against the tool names, which load with the tools themselves.
      new Option('--tools <names>', 'comma-separated tools this session gets').default(
        'task_complete',
        'task_complete',
      ),
    )
    .option(
      '--context <file>',
      'JSON file with what submissions are checked against: {"requirements": …, "existingTaskIds": […]}',
    )
    .action(async (options: { tools: string; context?: string }) => {
      const { LOKI_AGENT_TOOL_NAMES, serveLokiTools } = await import('../../mcp/index.ts');
      const tools = parseToolNames(options.tools, LOKI_AGENT_TOOL_NAMES);
      const toolContext =
        options.context === undefined ? {} : await readToolContext(resolve(context.cwd, options.context));
      await serveLokiTools({
        tools,
        context: toolContext,
        version: LOKI_VERSION,
        input: process.stdin,
        output: process.stdout,
      });
    });
}

function parseToolNames(value: string, known: readonly LokiAgentToolName[]): LokiAgentToolName[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(known as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw usageError(
      'MCP_TOOLS_UNKNOWN_TOOL',
      `${names.length === 0 ? 'no tool named' : `unknown tool ${unknown.join(', ')}`} in --tools; choose from ${known.join(', ')}`,
    );
  }
  return names as LokiAgentToolName[];
}

async function readToolContext(path: string): Promise<LokiToolContext> {
  const { lokiToolContextSchema } = await import('../../mcp/index.ts');
  const { formatValidationIssues } = await import('../../planning/format-validation-issues.ts');
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw usageError(
      'MCP_TOOLS_CONTEXT_UNREADABLE',
      `cannot read the --context file ${path} as JSON (${(error as Error).message}); write it with {"requirements": …}`,
    );
  }
  const parsed = lokiToolContextSchema.safeParse(value);
  if (!parsed.success) {
    throw usageError(
      'MCP_TOOLS_CONTEXT_INVALID',
      `the --context file ${path} is invalid: ${formatValidationIssues(parsed.error.issues).join('; ')}`,
    );
  }
  return parsed.data;
}
