import type { Command } from 'commander';
import { usageError } from '../../errors/index.ts';
import type { SkillScope } from '../../skill/index.ts';
import type { CliContext } from '../cli-context.ts';

interface ScopeFlags {
  user?: boolean;
  project?: boolean;
}

/** `loki skill install|uninstall`: Loki Mode inside Claude Code (the loki-mode skill and `loki mcp`). */
export function registerSkillCommands(program: Command, context: CliContext): void {
  const skill = program
    .command('skill')
    .description(
      'the loki-mode skill for Claude Code ("Loki Mode with PRD at ./prd.md") and its loki MCP server',
    );

  skill
    .command('install')
    .description('write the loki-mode skill and register the loki MCP server for Claude Code')
    .option(
      '--user',
      'for every project of this user: ~/.claude/skills/, claude mcp add --scope user (default)',
    )
    .option(
      '--project',
      'for this project: .claude/skills/ and .mcp.json (approved in .claude/settings.local.json)',
    )
    .action(async (flags: ScopeFlags) => {
      const scope = scopeOf(flags);
      const { installSkill } = await import('../../skill/index.ts');
      const { lokiMcpCommand } = await import('../../mcp-server/loki-mcp-command.ts');
      const result = installSkill({
        scope,
        projectRoot: context.cwd,
        env: context.env,
        mcpServer: lokiMcpCommand(),
      });
      for (const line of result.changes) context.stdout(`${line}\n`);
      context.stdout('Restart Claude Code, then ask it: Loki Mode with PRD at ./my-prd.md\n');
    });

  skill
    .command('uninstall')
    .description('remove exactly what loki skill install added (for the same scope)')
    .option('--user', 'the install for this user (default)')
    .option('--project', 'the install for this project')
    .action(async (flags: ScopeFlags) => {
      const scope = scopeOf(flags);
      const { uninstallSkill } = await import('../../skill/index.ts');
      const result = uninstallSkill({ scope, projectRoot: context.cwd, env: context.env });
      if (result.changes.length === 0)
        context.stdout('The loki-mode skill is not installed here; nothing was changed.\n');
      for (const line of result.changes) context.stdout(`${line}\n`);
    });
}

function scopeOf(flags: ScopeFlags): SkillScope {
  if (flags.user === true && flags.project === true) {
    throw usageError('CLI_INVALID_OPTION', 'choose one of --user and --project');
  }
  return flags.project === true ? 'project' : 'user';
}
