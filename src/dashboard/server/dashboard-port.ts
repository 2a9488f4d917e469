import { type AppContext, resolveAppConfig } from '../../app/index.ts';
import { usageError } from '../../errors/index.ts';

export interface DashboardPortChoice {
  port: number;
  /**
   * Whether the user named the port (--port, LOKI_DASHBOARD_PORT, a config file, -c). A port nobody
   * chose may be taken by another project's run on this machine: the dashboard then moves to a free
   * one (startDashboard's `whenPortBusy`), where a chosen one that is busy is an error.
   */
  isChosen: boolean;
}

/** What to tell the user when the dashboard left a busy port nobody chose for a free one. */
export function describeBusyPort(busyPort: number): string {
  return (
    `port ${busyPort} is in use (another Loki dashboard on this machine?): the dashboard listens on a free ` +
    'port instead; choose one with --port <n> or LOKI_DASHBOARD_PORT'
  );
}

/**
 * The port from --port, else the configuration's `dashboardPort` (LOKI_DASHBOARD_PORT, the config
 * files, -c; 57374 by default); 0 lets the system pick a free one.
 */
export function resolveDashboardPort(flag: string | undefined, context: AppContext): DashboardPortChoice {
  if (flag === undefined) {
    const config = resolveAppConfig(context);
    return { port: config.values.dashboardPort, isChosen: config.sources.dashboardPort.kind !== 'default' };
  }
  if (!/^\d{1,5}$/.test(flag) || Number(flag) > 65_535) {
    throw usageError('CLI_INVALID_OPTION', `--port must be a port number from 0 to 65535, not "${flag}"`);
  }
  return { port: Number(flag), isChosen: true };
}
