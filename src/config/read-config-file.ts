import { readFileSync } from 'node:fs';
import { parse, YAMLParseError } from 'yaml';
import { LokiError, usageError } from '../errors/index.ts';
import { type ConfigSource, describeConfigSource } from './config-source.ts';

/**
 * Reads one YAML configuration file into its raw key/value pairs. A missing file is not an
 * error (every file layer is optional); anything else wrong with it is, and names the file.
 * Values are returned as YAML typed them; validating them is the caller's job.
 */
export function readConfigFile(
  path: string,
  source: ConfigSource,
): ReadonlyArray<[key: string, value: unknown]> | undefined {
  const text = readTextIfPresent(path);
  if (text === undefined) return undefined;

  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    if (error instanceof YAMLParseError) throw yamlSyntaxError(error, path, source);
    throw error;
  }

  // An empty file, or one holding only comments, parses to null: treat it as "sets nothing".
  if (document === null || document === undefined) return [];
  if (typeof document !== 'object' || Array.isArray(document)) {
    const found = Array.isArray(document) ? 'a list' : `a single value (${JSON.stringify(document)})`;
    throw usageError(
      'LOKI_CONFIG_INVALID',
      `invalid configuration: ${describeConfigSource(source)} must be a YAML mapping of keys to values ` +
        `(e.g. "maxRetries: 5"), but it holds ${found}. Rewrite it as "key: value" lines.`,
      { path },
    );
  }
  return Object.entries(document);
}

function readTextIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (isErrorWithCode(error) && error.code === 'ENOENT') return undefined;
    const reason = isErrorWithCode(error) ? error.code : String(error);
    throw new LokiError(
      `cannot read configuration file ${path} (${reason}). Check that it is a readable file, or remove it.`,
      { code: 'LOKI_CONFIG_UNREADABLE', category: 'user', context: { path }, cause: error },
    );
  }
}

function yamlSyntaxError(error: YAMLParseError, path: string, source: ConfigSource): LokiError {
  const position = error.linePos?.[0];
  const location = position === undefined ? '' : ` at line ${position.line}, column ${position.col}`;
  // The yaml library appends its own position and a code excerpt after the first line; keep only the reason.
  const reason = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
  return new LokiError(
    `invalid configuration: YAML syntax error in ${describeConfigSource(source)}${location}: ${reason}. Fix the YAML syntax.`,
    {
      code: 'LOKI_CONFIG_SYNTAX',
      category: 'user',
      context: { path, line: position?.line, column: position?.col },
      cause: error,
    },
  );
}

function isErrorWithCode(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}
