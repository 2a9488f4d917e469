import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { type AppContext, readRunReport } from '../app/index.ts';
import { usageError } from '../errors/index.ts';
import { workspacePaths } from '../workspace/index.ts';

const MARKDOWN = 'text/markdown';

/**
 * The workspace's documents as MCP resources: the latest run report, CONTINUITY.md (the working
 * memory agents and people read between sessions) and the specs (the PRD copy, the OpenAPI
 * document, the requirements). Reads only, and only inside `.loki/`.
 */
export function registerWorkspaceResources(server: McpServer, context: AppContext): void {
  const paths = workspacePaths(context.cwd);
  server.registerResource(
    'report',
    'loki://report/latest',
    {
      title: 'Latest run report',
      description: 'The report of the latest run that ended',
      mimeType: MARKDOWN,
    },
    async (uri) => textResource(uri.href, MARKDOWN, (await readRunReport(context)).markdown),
  );
  server.registerResource(
    'run-report',
    new ResourceTemplate('loki://reports/{runId}', { list: undefined }),
    { title: 'Run report', description: 'The report of one run, by run id', mimeType: MARKDOWN },
    async (uri, { runId }) =>
      textResource(uri.href, MARKDOWN, (await readRunReport(context, String(runId))).markdown),
  );
  server.registerResource(
    'continuity',
    'loki://continuity',
    {
      title: 'CONTINUITY.md',
      description: 'The run’s working memory: where it stands, what comes next',
      mimeType: MARKDOWN,
    },
    (uri) => textResource(uri.href, MARKDOWN, readWorkspaceFile(paths.continuityFile, 'CONTINUITY.md')),
  );
  server.registerResource(
    'spec',
    new ResourceTemplate('loki://specs/{name}', {
      list: () => ({
        resources: specNames(paths.specsDirectory).map((name) => ({
          uri: `loki://specs/${encodeURIComponent(name)}`,
          name,
          mimeType: mimeTypeOf(name),
        })),
      }),
    }),
    {
      title: 'Spec',
      description: 'A file of .loki/specs/: the PRD copy, requirements, architecture, OpenAPI',
    },
    (uri, { name }) => {
      const fileName = decodeURIComponent(String(name));
      // Only a name the listing offers is read: no path reaches outside .loki/specs/.
      if (!specNames(paths.specsDirectory).includes(fileName)) {
        throw usageError(
          'MCP_RESOURCE_NOT_FOUND',
          `no spec named "${fileName}"; list the resources to see the specs of this workspace`,
        );
      }
      const text = readWorkspaceFile(join(paths.specsDirectory, fileName), `.loki/specs/${fileName}`);
      return textResource(uri.href, mimeTypeOf(fileName), text);
    },
  );
}

function specNames(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => statSync(join(directory, name)).isFile())
    .sort();
}

function readWorkspaceFile(path: string, name: string): string {
  if (!existsSync(path)) {
    throw usageError('MCP_RESOURCE_NOT_FOUND', `${name} does not exist yet; a run writes it (start_run)`);
  }
  return readFileSync(path, 'utf8');
}

function mimeTypeOf(name: string): string {
  if (name.endsWith('.md')) return MARKDOWN;
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'application/yaml';
  return 'text/plain';
}

function textResource(uri: string, mimeType: string, text: string): ReadResourceResult {
  return { contents: [{ uri, mimeType, text }] };
}
