import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseJsonOrNull } from '../text/index.ts';

/** How the app gates start the product, and what they ask of it. */
export interface AppLaunch {
  /** Runs in the foreground and listens on `$PORT` (127.0.0.1). */
  startCommand: string;
  /** Answered with 2xx once the product is ready. */
  healthPath: string;
  /** The main routes: GET paths without parameters, the health path and `/` among them. */
  routes: string[];
  /** Where the start command and the routes were found, for the evidence. */
  files: string[];
}

export type AppLaunchLookup = { found: true; launch: AppLaunch } | { found: false; reason: string };

/** Enough routes for a picture of the app; beyond it a gate would run for minutes. */
const MAX_ROUTES = 8;
const DEFAULT_HEALTH_PATH = '/';

const architectureSchema = z.looseObject({
  openapi: z.string().nullable().optional(),
  deployment: z
    .looseObject({ startCommand: z.string().trim().min(1), healthPath: z.string().regex(/^\/\S*$/) })
    .nullable()
    .optional(),
});
const packageJsonSchema = z.looseObject({ scripts: z.record(z.string(), z.unknown()).optional() });
const openApiSchema = z.looseObject({ paths: z.record(z.string(), z.unknown()) });

/**
 * The start command and health path from `.loki/specs/architecture.json` (what Loki's own
 * Architecture phase decided) when it has a deployment, else the project's `npm start` (listening
 * on `$PORT`, the common convention) with `/` as the health path. Routes come from the project's
 * OpenAPI document when it has one. Every file read here may be agent-written: it decides what the
 * sandboxed app runs, never what Loki runs outside the sandbox.
 */
export function findAppLaunch(projectDirectory: string): AppLaunchLookup {
  const files: string[] = [];
  const architecture = readArchitecture(projectDirectory);
  let startCommand: string | null = null;
  let healthPath = DEFAULT_HEALTH_PATH;
  if (architecture?.deployment) {
    startCommand = architecture.deployment.startCommand;
    healthPath = architecture.deployment.healthPath;
    files.push('.loki/specs/architecture.json (deployment)');
  } else if (typeof readScripts(projectDirectory).start === 'string') {
    startCommand = 'npm start';
    files.push('package.json (scripts.start)');
  }
  if (startCommand === null) {
    return {
      found: false,
      reason:
        'not applicable: no way to start the app (no deployment in .loki/specs/architecture.json, no scripts.start in package.json)',
    };
  }
  const openApi = readOpenApiPaths(projectDirectory, architecture?.openapi ?? null);
  if (openApi !== null) files.push(openApi.file);
  const routes = mainRoutes(healthPath, openApi?.paths ?? []);
  return { found: true, launch: { startCommand, healthPath, routes, files } };
}

function readArchitecture(directory: string): z.output<typeof architectureSchema> | null {
  const path = join(directory, '.loki', 'specs', 'architecture.json');
  if (!existsSync(path)) return null;
  const parsed = architectureSchema.safeParse(parseJsonOrNull(readFileSync(path, 'utf8')));
  return parsed.success ? parsed.data : null;
}

function readScripts(directory: string): Record<string, unknown> {
  const path = join(directory, 'package.json');
  if (!existsSync(path)) return {};
  const parsed = packageJsonSchema.safeParse(parseJsonOrNull(readFileSync(path, 'utf8')));
  return parsed.success ? (parsed.data.scripts ?? {}) : {};
}

/** The project's own OpenAPI document first, then the one the Architecture phase wrote. */
function readOpenApiPaths(
  directory: string,
  architectureOpenApi: string | null,
): { file: string; paths: string[] } | null {
  const candidates = ['openapi.json', 'openapi.yaml', 'openapi.yml', '.loki/specs/openapi.yaml'];
  for (const name of candidates) {
    const path = join(directory, name);
    if (!existsSync(path)) continue;
    const paths = getPaths(readFileSync(path, 'utf8'));
    if (paths !== null) return { file: name, paths };
  }
  if (architectureOpenApi !== null) {
    const paths = getPaths(architectureOpenApi);
    if (paths !== null) return { file: '.loki/specs/architecture.json (openapi)', paths };
  }
  return null;
}

/** GET operations whose path has no parameter: the gates cannot invent an `{id}`. */
function getPaths(text: string): string[] | null {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch {
    // An unreadable document is no route list; the gates fall back to the health path and `/`.
    return null;
  }
  const parsed = openApiSchema.safeParse(document);
  if (!parsed.success) return null;
  return Object.entries(parsed.data.paths)
    .filter(
      ([path, item]) =>
        /^\/[^{}\s]*$/.test(path) && typeof item === 'object' && item !== null && 'get' in item,
    )
    .map(([path]) => path);
}

/** The routes the app gates measure: `/`, the health path, then the OpenAPI GETs; a bounded few. */
export function mainRoutes(healthPath: string, paths: readonly string[]): string[] {
  return [...new Set(['/', healthPath, ...paths])].slice(0, MAX_ROUTES);
}
