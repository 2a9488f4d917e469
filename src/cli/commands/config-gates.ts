import type { Command } from 'commander';
import type { GateStage, GatesConfig } from '../../config/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';

/** `loki config gates`: the quality gates in force, where each runs, which block, the thresholds. */
export function registerConfigGatesCommand(configCommand: Command, context: CliContext): void {
  configCommand
    .command('gates')
    .description(
      'print which quality gates run on each merge, at QA and at Deployment (.loki/config/gates.yaml)',
    )
    .option('--json', 'print the configuration as one JSON object')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ json?: boolean }>();
      const { GATE_STAGES, loadGatesConfig } = await import('../../config/index.ts');
      const { ALL_GATES } = await import('../../gates/index.ts');
      const config = loadGatesConfig(
        context.cwd,
        ALL_GATES.map((gate) => gate.name),
      );
      if (options.json === true) writeJson(context, config);
      else context.stdout(gatesTable(config, ALL_GATES, GATE_STAGES));
    });
}

function gatesTable(
  config: GatesConfig,
  gates: readonly { name: string }[],
  stages: readonly GateStage[],
): string {
  const source = config.path === null ? 'defaults (no .loki/config/gates.yaml)' : config.path;
  const header = ['GATE', ...stages.map((stage) => stage.toUpperCase()), 'BLOCKS'];
  const rows = gates.map((gate) => [
    gate.name,
    ...stages.map((stage) => (config.stages[stage].includes(gate.name) ? 'yes' : '-')),
    config.nonBlocking.includes(gate.name) ? 'no' : 'yes',
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => (row[column] ?? '').length)),
  );
  const lines = [header, ...rows].map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd((widths[column] ?? 0) + 2)))
      .join(''),
  );
  const thresholds = Object.entries(config.thresholds).map(([key, value]) => `${key}: ${String(value)}`);
  return [
    `Quality gates from ${source}`,
    ...lines,
    `thresholds: ${thresholds.length === 0 ? "each gate's default" : thresholds.join(', ')}`,
    '',
  ].join('\n');
}
