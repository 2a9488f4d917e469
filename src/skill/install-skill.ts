import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { z } from 'zod';
import { usageError } from '../errors/index.ts';
import { parseJsonOrNull } from '../text/index.ts';
import { findClaudeExecutable, runClaudeMcp } from './claude-cli.ts';
import {
  editJsonFile,
  type JsonObject,
  jsonFileEditSchema,
  objectAt,
  parseJsonObject,
  undoJsonFileEdit,
} from './json-file-edit.ts';
import { lokiSkillMarkdown } from './loki-skill-document.ts';
import { type SkillLocations, skillLocations, type SkillScope } from './skill-locations.ts';

/** The MCP server name Claude Code knows `loki mcp` by: its tools are `mcp__loki__<tool>`. */
const SERVER_NAME = 'loki';

export interface SkillRequest {
  scope: SkillScope;
  projectRoot: string;
  env: NodeJS.ProcessEnv;
}

export interface SkillInstallRequest extends SkillRequest {
  /** How Claude Code starts `loki mcp`. */
  mcpServer: { command: string; args: string[] };
}

/** What was done, one line each, paths relative to the project (project scope) or absolute. */
export interface SkillChange {
  changes: string[];
}

const installRecordSchema = z.strictObject({
  version: z.literal(1),
  scope: z.enum(['user', 'project']),
  createdDirectories: z.array(z.string()),
  mcp: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('json'), edit: jsonFileEditSchema }),
    z.strictObject({ kind: z.literal('claude-cli') }),
    z.strictObject({ kind: z.literal('none') }),
  ]),
  localSettings: jsonFileEditSchema.nullable(),
});
type InstallRecord = z.output<typeof installRecordSchema>;

/**
 * Installs the `loki-mode` skill and registers `loki mcp` for Claude Code, recording every change
 * so that uninstall takes out exactly those. Installing again first undoes the earlier install.
 * Whatever of the user's is in the way (another `loki-mode` skill, another server named `loki`) is
 * refused before anything is written.
 */
export function installSkill(request: SkillInstallRequest): SkillChange {
  const locations = skillLocations(request.scope, request.projectRoot, request.env);
  const changes: string[] = [];
  if (existsSync(locations.recordFile))
    changes.push(...uninstallSkill(request).changes.map((line) => `(re-install) ${line}`));
  assertSkillFree(locations);
  const claude = request.scope === 'user' ? findClaudeExecutable(request.env) : null;
  if (claude === null) assertServerNameFree(locations.mcpConfigFile, request.mcpServer);
  const show = (path: string) => (request.scope === 'project' ? relative(request.projectRoot, path) : path);

  let mcp: InstallRecord['mcp'];
  if (claude !== null) {
    runClaudeMcp(
      claude,
      ['add', '--scope', 'user', SERVER_NAME, '--', request.mcpServer.command, ...request.mcpServer.args],
      request.env,
    );
    mcp = { kind: 'claude-cli' };
    changes.push(`registered the ${SERVER_NAME} MCP server for your user (claude mcp add --scope user)`);
  } else {
    const edit = editJsonFile(locations.mcpConfigFile, (json) =>
      addServer(json, locations.mcpConfigFile, request.mcpServer),
    );
    mcp = edit === null ? { kind: 'none' } : { kind: 'json', edit };
    changes.push(
      edit === null
        ? `${show(locations.mcpConfigFile)} already registers the ${SERVER_NAME} MCP server`
        : `registered the ${SERVER_NAME} MCP server in ${show(locations.mcpConfigFile)}`,
    );
  }
  const createdDirectories = createDirectories(locations.skillDirectory, locations.base);
  writeFileSync(locations.skillFile, lokiSkillMarkdown());
  changes.push(`wrote the loki-mode skill: ${show(locations.skillFile)}`);
  // Claude Code asks before it starts a server of a project's .mcp.json; installing it is the
  // user's own approval, kept in their personal (not committed) project settings.
  const localSettings =
    locations.localSettingsFile === null ? null : editJsonFile(locations.localSettingsFile, approveServer);
  if (localSettings !== null)
    changes.push(`approved the ${SERVER_NAME} server in ${show(localSettings.file)}`);
  const record: InstallRecord = { version: 1, scope: request.scope, createdDirectories, mcp, localSettings };
  writeFileSync(locations.recordFile, `${JSON.stringify(record, null, 2)}\n`);
  return { changes };
}

/** Takes out what the recorded install added, and nothing else. */
export function uninstallSkill(request: SkillRequest): SkillChange {
  const locations = skillLocations(request.scope, request.projectRoot, request.env);
  const record = readInstallRecord(locations);
  if (record === null) return { changes: [] };
  const changes: string[] = [];
  if (record.localSettings !== null) {
    undoJsonFileEdit(record.localSettings, unapproveServer);
    changes.push(`withdrew the approval of the ${SERVER_NAME} server in ${record.localSettings.file}`);
  }
  if (record.mcp.kind === 'json') {
    undoJsonFileEdit(record.mcp.edit, removeServer);
    changes.push(`removed the ${SERVER_NAME} MCP server from ${record.mcp.edit.file}`);
  } else if (record.mcp.kind === 'claude-cli') {
    const claude = findClaudeExecutable(request.env);
    if (claude === null) {
      throw usageError(
        'SKILL_CLAUDE_MISSING',
        `the ${SERVER_NAME} MCP server was added with claude mcp add, but claude is not on the PATH now; put it back on the PATH and run this again`,
      );
    }
    runClaudeMcp(claude, ['remove', '--scope', 'user', SERVER_NAME], request.env);
    changes.push(`removed the ${SERVER_NAME} MCP server of your user (claude mcp remove --scope user)`);
  }
  rmSync(locations.skillFile, { force: true });
  rmSync(locations.recordFile, { force: true });
  changes.push(`removed the loki-mode skill: ${locations.skillFile}`);
  // Deepest first; a directory that holds anything else now is the user's and stays.
  for (const directory of [...record.createdDirectories].reverse()) {
    if (existsSync(directory) && readdirSync(directory).length === 0) rmdirSync(directory);
  }
  return { changes };
}

function readInstallRecord(locations: SkillLocations): InstallRecord | null {
  if (!existsSync(locations.recordFile)) return null;
  const parsed = installRecordSchema.safeParse(parseJsonOrNull(readFileSync(locations.recordFile, 'utf8')));
  if (!parsed.success) {
    throw usageError(
      'SKILL_RECORD_INVALID',
      `${locations.recordFile} is not a record Loki wrote, so Loki cannot tell what it installed; remove the loki-mode skill and the loki MCP server by hand`,
    );
  }
  return parsed.data;
}

function assertSkillFree(locations: SkillLocations): void {
  if (!existsSync(locations.skillFile) || readFileSync(locations.skillFile, 'utf8') === lokiSkillMarkdown())
    return;
  throw usageError(
    'SKILL_EXISTS',
    `${locations.skillFile} exists and was not installed by Loki; move it away, then run this again (nothing was changed)`,
  );
}

function assertServerNameFree(file: string, server: { command: string; args: string[] }): void {
  if (!existsSync(file)) return;
  const json = parseJsonObject(file, readFileSync(file, 'utf8'));
  const existing = (json.mcpServers as JsonObject | undefined)?.[SERVER_NAME];
  if (existing === undefined || sameServer(existing, server)) return;
  throw usageError(
    'SKILL_MCP_SERVER_TAKEN',
    `${file} already has an MCP server named ${SERVER_NAME} that Loki did not add; remove or rename it, then run this again (nothing was changed)`,
  );
}

function sameServer(existing: unknown, server: { command: string; args: string[] }): boolean {
  return JSON.stringify(existing) === JSON.stringify({ type: 'stdio', ...server });
}

function addServer(json: JsonObject, file: string, server: { command: string; args: string[] }): boolean {
  const servers = objectAt(json, 'mcpServers', file);
  if (sameServer(servers[SERVER_NAME], server)) return false;
  servers[SERVER_NAME] = { type: 'stdio', ...server };
  return true;
}

function removeServer(json: JsonObject): void {
  const servers = json.mcpServers as JsonObject | undefined;
  if (servers === undefined) return;
  const { [SERVER_NAME]: _removed, ...rest } = servers;
  if (Object.keys(rest).length === 0) delete json.mcpServers;
  else json.mcpServers = rest;
}

function approveServer(json: JsonObject): boolean {
  const enabled = json.enabledMcpjsonServers;
  const list = Array.isArray(enabled) ? (enabled as unknown[]) : [];
  if (list.includes(SERVER_NAME)) return false;
  json.enabledMcpjsonServers = [...list, SERVER_NAME];
  return true;
}

function unapproveServer(json: JsonObject): void {
  if (!Array.isArray(json.enabledMcpjsonServers)) return;
  const rest = (json.enabledMcpjsonServers as unknown[]).filter((name) => name !== SERVER_NAME);
  if (rest.length === 0) delete json.enabledMcpjsonServers;
  else json.enabledMcpjsonServers = rest;
}

/** Creates `directory` and its missing parents up to `base`; returns those it created, outermost first. */
function createDirectories(directory: string, base: string): string[] {
  const missing: string[] = [];
  for (
    let current = directory;
    !existsSync(current) && current !== base && current !== dirname(current);
    current = dirname(current)
  ) {
    missing.unshift(current);
  }
  mkdirSync(directory, { recursive: true });
  return missing;
}
