import type { Command } from 'commander';
import type { ResolvedConfig } from '../../config/index.ts';
// By their own files: the config barrel and the store barrel load far more than help texts need.
import { CONFIG_KEYS, type ConfigValue } from '../../config/config-schema.ts';
import { describeConfigSource } from '../../config/config-source.ts';
import { isPostgresUrl, redactPostgresUrl } from '../../store/postgres/postgres-url.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { registerConfigGatesCommand } from './config-gates.ts';

interface ConfigShowOptions {
  json?: boolean;
  config?: string[];
}

export function registerConfigCommands(program: Command, context: CliContext): void {
  const configCommand = program
    .command('config')
    .description('inspect the effective configuration (keys are listed by `loki config show --help`)');

  configCommand
    .command('show')
    .description('print every configuration value and where it came from')
    .option(
      '--json',
      'print {"values": {key: value}, "sources": {key: "env LOKI_X" | ...}} instead of a table',
    )
    .addHelpText(
      'after',
      [
        '',
        'Sources, lowest precedence first: "default", "user file <path>", "workspace file <path>",',
        '"env LOKI_X", "flag -c key=value".',
        '',
        'With --json the output is one object with the same keys in "values" and "sources", e.g.',
        '  {"values": {"maxRetries": 50, ...}, "sources": {"maxRetries": "default", ...}}',
        configKeysHelp(),
      ].join('\n'),
    )
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<ConfigShowOptions>();
      const { loadConfig, parseConfigOverrides } = await import('../../config/index.ts');
      const resolved = loadConfig({
        workspaceRoot: context.cwd,
        env: context.env,
        overrides: parseConfigOverrides(options.config ?? []),
      });
      if (options.json === true) {
        writeJson(context, configShowJson(resolved));
      } else {
        context.stdout(configShowTable(resolved));
      }
    });

  registerConfigGatesCommand(configCommand, context);
}

export interface ConfigShowJson {
  values: Record<string, ConfigValue>;
  sources: Record<string, string>;
}

/** One cell of the table: a list as its names joined by commas (as env vars take it), a mapping as JSON, an empty name as "(default)". */
function showValue(value: ConfigValue): string {
  if (value === '') return '(default)';
  if (Array.isArray(value)) return shortList(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A long list would widen the whole table: its first names and a count, the rest is in --json. */
function shortList(names: readonly string[]): string {
  const joined = names.join(',');
  if (joined.length <= 40) return joined;
  return `${names.slice(0, 2).join(',')},… (${String(names.length)} in all)`;
}

/** What may be printed of a value: a store URL never shows its password. */
function printable(key: string, value: ConfigValue): ConfigValue {
  return key === 'store' && typeof value === 'string' && isPostgresUrl(value)
    ? redactPostgresUrl(value)
    : value;
}

export function configShowJson(resolved: ResolvedConfig): ConfigShowJson {
  const values: Record<string, ConfigValue> = {};
  const sources: Record<string, string> = {};
  for (const info of CONFIG_KEYS) {
    values[info.key] = printable(info.key, resolved.values[info.key]);
    sources[info.key] = describeConfigSource(resolved.sources[info.key]);
  }
  return { values, sources };
}

function configShowTable(resolved: ResolvedConfig): string {
  const rows = CONFIG_KEYS.map((info) => [
    info.key,
    showValue(printable(info.key, resolved.values[info.key])),
    describeConfigSource(resolved.sources[info.key]),
  ]);
  return formatTable([['KEY', 'VALUE', 'SOURCE'], ...rows]);
}

/** Pads every column but the last to its widest cell, so the table reads well without wrapping. */
function formatTable(rows: readonly string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}

/** The key reference shown in `--help`, built from the schema so it cannot drift from it. */
function configKeysHelp(): string {
  const rows = CONFIG_KEYS.map((info) => [
    `  ${info.key}`,
    info.environmentVariable,
    `default ${showValue(info.defaultValue) === '(default)' ? '' : showValue(info.defaultValue)}`,
  ]);
  const table = formatTable(rows).trimEnd().split('\n');
  const lines = ['', 'Configuration keys (set in ~/.loki/config.yaml, .loki/config/loki.yaml, env, or -c):'];
  CONFIG_KEYS.forEach((info, index) => {
    lines.push(table[index] ?? '', `      ${info.description}`);
  });
  return lines.join('\n');
}
