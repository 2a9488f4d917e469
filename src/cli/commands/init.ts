import type { Command } from 'commander';
import { type CliContext, writeJson } from '../cli-context.ts';
import { resolveCliConfig } from '../open-cli-workspace.ts';

export function registerInitCommand(program: Command, context: CliContext): void {
  program
    .command('init')
    .description('create the .loki/ workspace here (git init if needed); copies PRD to .loki/specs/prd.md')
    .argument('[prd]', 'the Product Requirements Document (Markdown or text, UTF-8, at most 5 MB)')
    .option('--json', 'print the result as JSON')
    .action(async (prdPath: string | undefined, options: { json?: boolean }, command: Command) => {
      // Validates the configuration files too, so a broken config is found now, not mid-run.
      await resolveCliConfig(command, context);
      const { initWorkspace } = await import('../../workspace/init-workspace.ts');
      const { runLiveness } = await import('../../app/open-app-workspace.ts');
      const result = await initWorkspace({
        root: context.cwd,
        cwd: context.cwd,
        clock: context.clock,
        isRunAlive: runLiveness(context.cwd),
        ...(prdPath === undefined ? {} : { prdPath }),
      });
      if (options.json === true) {
        writeJson(context, result);
        return;
      }
      if (result.created.length === 0) {
        context.stdout(`Loki workspace in ${result.root} is already initialized; nothing changed.\n`);
        return;
      }
      context.stdout(`Initialized Loki workspace in ${result.root}\n`);
      if (result.gitInitialized) context.stdout('  git repository created (branch main)\n');
      if (result.prdCopied)
        context.stdout(`  PRD copied to .loki/specs/prd.md (${prdPath} is left untouched)\n`);
      context.stdout(`  ${result.created.length} files and folders created under .loki/\n`);
      context.stdout('Next: loki status · loki queue add "<title>" --type <agent-type> · loki doctor\n');
    });
}
