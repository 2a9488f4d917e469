export { type DashboardPortChoice, describeBusyPort, resolveDashboardPort } from './dashboard-port.ts';
export { readLiveDashboardUrl, writeDashboardRecord } from './dashboard-record.ts';
export type { CommitSource } from './event-stream-route.ts';
export {
  DEFAULT_DASHBOARD_PORT,
  type DashboardOptions,
  type DashboardServer,
  startDashboard,
} from './dashboard-server.ts';
