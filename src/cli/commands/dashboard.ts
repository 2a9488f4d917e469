import { once } from 'node:events';
import type { Command } from 'commander';
import { usageError } from '../../errors/index.ts';
import { workspacePaths } from '../../workspace/workspace-paths.ts';
import { existsSync } from 'node:fs';
import type { CliContext } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';

// Loaded by a function of its own: TypeScript leaves the `.ts` of an import() written inside a
// function that declares `await using` in the built code, where no .ts file exists.
const loadDashboardServer = () => import('../../dashboard/server/index.ts');

/** `loki dashboard`: the dashboard of this workspace, live or finished, until Ctrl-C. */
export function registerDashboardCommand(program: Command, context: CliContext): void {
  program
    .command('dashboard')
    .description('serve the live dashboard of this workspace (a run going on or one that ended) until Ctrl-C')
    .option(
      '--port <n>',
      'the port on 127.0.0.1 (default: LOKI_DASHBOARD_PORT, then 57374; 0: any free port)',
    )
    .action(async (flags: { port?: string }, command: Command) => {
      if (!existsSync(workspacePaths(context.cwd).database)) {
        throw usageError(
          'WORKSPACE_NOT_FOUND',
          `no Loki workspace in ${context.cwd}; start one with loki run <prd> (it serves the dashboard itself)`,
        );
      }
      const { describeBusyPort, resolveDashboardPort, startDashboard } = await loadDashboardServer();
      const { port, isChosen } = resolveDashboardPort(flags.port, appContextOf(command, context));
      await using dashboard = await startDashboard({
        context: appContextOf(command, context),
        port,
        whenPortBusy: isChosen ? 'refuse' : 'use a free port',
      });
      if (dashboard.busyPort !== null) context.stderr(`loki: ${describeBusyPort(dashboard.busyPort)}\n`);
      context.stdout(`Dashboard of ${context.cwd}: ${dashboard.url}\n(Ctrl-C to stop serving it)\n`);
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    });
}
