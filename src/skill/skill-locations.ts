import { join } from 'node:path';
import { usageError } from '../errors/index.ts';
import { LOKI_SKILL_NAME } from './loki-skill-document.ts';

export type SkillScope = 'user' | 'project';

/** Where one scope's skill and MCP registration live, as Claude Code reads them. */
export interface SkillLocations {
  scope: SkillScope;
  /** The directory whose `.claude/`-like tree the install may create directories in. */
  base: string;
  skillDirectory: string;
  skillFile: string;
  /** What the install recorded, so uninstall removes exactly that. */
  recordFile: string;
  /** Project: `.mcp.json`; user: Claude Code's user configuration (when its CLI is not there). */
  mcpConfigFile: string;
  /** Project only: the personal settings that approve the project's `loki` server. */
  localSettingsFile: string | null;
}

/**
 * Project scope: `<project>/.claude/skills/loki-mode/` and `<project>/.mcp.json`. User scope:
 * `~/.claude/skills/loki-mode/` and `~/.claude.json` (both under CLAUDE_CONFIG_DIR when it is set,
 * as Claude Code itself reads them).
 */
export function skillLocations(
  scope: SkillScope,
  projectRoot: string,
  env: NodeJS.ProcessEnv,
): SkillLocations {
  if (scope === 'project') {
    const claudeDirectory = join(projectRoot, '.claude');
    return located(
      scope,
      projectRoot,
      join(claudeDirectory, 'skills'),
      join(projectRoot, '.mcp.json'),
      join(claudeDirectory, 'settings.local.json'),
    );
  }
  const home = env.HOME;
  if (home === undefined || home === '') {
    throw usageError(
      'SKILL_NO_HOME',
      'HOME is not set, so the user scope has no place; set HOME or use --project',
    );
  }
  const configDirectory = env.CLAUDE_CONFIG_DIR ?? join(home, '.claude');
  const userConfig =
    env.CLAUDE_CONFIG_DIR === undefined ? join(home, '.claude.json') : join(configDirectory, '.claude.json');
  return located(
    scope,
    env.CLAUDE_CONFIG_DIR === undefined ? home : configDirectory,
    join(configDirectory, 'skills'),
    userConfig,
    null,
  );
}

function located(
  scope: SkillScope,
  base: string,
  skillsDirectory: string,
  mcpConfigFile: string,
  localSettingsFile: string | null,
): SkillLocations {
  const skillDirectory = join(skillsDirectory, LOKI_SKILL_NAME);
  return {
    scope,
    base,
    skillDirectory,
    skillFile: join(skillDirectory, 'SKILL.md'),
    recordFile: join(skillDirectory, '.loki-install.json'),
    mcpConfigFile,
    localSettingsFile,
  };
}
