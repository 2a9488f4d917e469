import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../../errors/index.ts';
import type { CliContext } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { LOKI_VERSION } from '../version.ts';

/**
 * `loki mcp`: Loki Mode for people in an MCP client (Claude Code, any other): start and follow a
 * run, steer it, change the queue, read the report. stdout carries the protocol, so the command
 * prints nothing else there.
 */
export function registerMcpCommand(program: Command, context: CliContext): void {
  program
    .command('mcp')
    .description('serve this workspace as a stdio MCP server named loki: start, follow and steer runs')
    .option('--cwd <directory>', 'the workspace to serve (default: the current directory)')
    .action(async (options: { cwd?: string }, command: Command) => {
      const cwd = options.cwd === undefined ? context.cwd : resolve(context.cwd, options.cwd);
      if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
        throw usageError(
          'CLI_INVALID_OPTION',
          `--cwd ${options.cwd ?? ''} is not a directory; pass the project's directory`,
        );
      }
      const { serveLokiMcp } = await import('../../mcp-server/index.ts');
      await serveLokiMcp({
        context: { ...appContextOf(command, context), cwd },
        version: LOKI_VERSION,
        input: process.stdin,
        output: process.stdout,
      });
    });
}
