import { type AppContext, resolveAppConfig } from '../../app/index.ts';
import { usageError } from '../../errors/index.ts';

/**
 * The port from --port, else the configuration's `dashboardPort` (LOKI_DASHBOARD_PORT, the config
 * files, -c; 57374 by default); 0 lets the system pick a free one.
 */
export function resolveDashboardPort(flag: string | undefined, context: AppContext): number {
  if (flag === undefined) return resolveAppConfig(context).values.dashboardPort;
  if (!/^\d{1,5}$/.test(flag) || Number(flag) > 65_535) {
    throw usageError('CLI_INVALID_OPTION', `--port must be a port number from 0 to 65535, not "${flag}"`);
  }
  return Number(flag);
}
