import { parse as parseYaml } from 'yaml';
import { LokiError } from '../errors/index.ts';

/**
 * The smoke requests of a release: GET paths of its OpenAPI document that need no parameter
 * (no `{id}` in the path, no required parameter), so requesting them is safe and needs no data.
 */
export function smokePathsFromOpenApi(openApiText: string): string[] {
  let document: unknown;
  try {
    document = parseYaml(openApiText);
  } catch (error) {
    throw new LokiError(
      `The OpenAPI document does not parse (${error instanceof Error ? error.message : String(error)}); fix .loki/specs/openapi.yaml`,
      {
        code: 'DEPLOY_OPENAPI_INVALID',
        category: 'user',
      },
    );
  }
  const paths = isRecord(document) && isRecord(document.paths) ? document.paths : {};
  const result: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith('/') || path.includes('{') || !isRecord(item) || !isRecord(item.get)) continue;
    const parameters = [...asList(item.parameters), ...asList(item.get.parameters)];
    if (parameters.some((parameter) => isRecord(parameter) && parameter.required === true)) continue;
    result.push(path);
  }
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
