import type { Clock } from '../clock/index.ts';

/**
 * What an app service needs from the outside world: the workspace directory, the process
 * environment and the clock. The CLI's context is one (it adds output); the dashboard, the MCP
 * server and remote workers make their own. `configOverrides` are `-c key=value` settings given for
 * this one call.
 */
export interface AppContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  configOverrides?: readonly string[];
}
