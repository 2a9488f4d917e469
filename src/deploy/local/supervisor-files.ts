import { join } from 'node:path';

/** Where the local target's supervisor keeps its files, under the workspace's `.loki/deploy/`. */
export interface SupervisorFiles {
  directory: string;
  /** The supervisor's pid, written once it listens; removed when it exits cleanly. */
  pidFile: string;
  /**
   * The control channel: HTTP over a unix socket. Only processes that can open the file (the
   * workspace's owner) reach it, so it needs no token; nothing of it is reachable over TCP.
   */
  socket: string;
  /** The supervisor's own log; each release's output goes to `logs/<version>.log`. */
  logFile: string;
  logsDirectory: string;
  /** The proxy's stable port, kept across supervisor restarts so the URL stays the same. */
  portFile: string;
}

export function supervisorFiles(workspaceRoot: string): SupervisorFiles {
  const directory = join(workspaceRoot, '.loki', 'deploy');
  return {
    directory,
    pidFile: join(directory, 'supervisor.pid'),
    socket: join(directory, 'supervisor.sock'),
    logFile: join(directory, 'supervisor.log'),
    logsDirectory: join(directory, 'logs'),
    portFile: join(directory, 'proxy.port'),
  };
}
