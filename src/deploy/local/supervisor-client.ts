import { LOKI_ENTRY_POINT } from '../../workspace/loki-entry-point.ts';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { errorCode, LokiError } from '../../errors/index.ts';
import { type SupervisorFiles, supervisorFiles } from './supervisor-files.ts';
import {
  type AppState,
  appStateSchema,
  type Route,
  type StartAppRequest,
  type SupervisorStatus,
  supervisorStatusSchema,
} from './supervisor-protocol.ts';

// Not `import … from 'node:http'`: the ES module of node:http reads every export up front, among
// them the WebSocket classes that load Node's bundled undici, 0.1–0.2 s of a `loki rollback`.
const { request } = process.getBuiltinModule('node:http');

/** The `loki` entry point, from src/deploy/local or dist/deploy/local alike. */
const START_DEADLINE_MILLISECONDS = 20_000;
const POLL_MILLISECONDS = 50;

/** Talks to the supervisor of one workspace over its unix socket. */
export class SupervisorClient {
  readonly files: SupervisorFiles;
  private readonly workspaceRoot: string;

  constructor(workspaceRoot: string) {
    this.workspaceRoot = workspaceRoot;
    this.files = supervisorFiles(workspaceRoot);
  }

  /** The supervisor's state, or null when none is listening (never started, stopped, or dead). */
  async status(): Promise<SupervisorStatus | null> {
    if (!existsSync(this.files.socket)) return null;
    try {
      return supervisorStatusSchema.parse(await this.call('GET', '/status'));
    } catch (error) {
      // A socket file left by a supervisor that was killed: nobody listens on it.
      if (errorCode(error) === 'ECONNREFUSED' || errorCode(error) === 'ENOENT') return null;
      throw error;
    }
  }

  async startApp(app: StartAppRequest): Promise<AppState> {
    return appStateSchema.parse(await this.call('POST', '/apps', app));
  }

  async stopApp(version: string): Promise<SupervisorStatus> {
    return supervisorStatusSchema.parse(await this.call('DELETE', `/apps/${encodeURIComponent(version)}`));
  }

  async setRoute(route: Route): Promise<SupervisorStatus> {
    return supervisorStatusSchema.parse(await this.call('PUT', '/route', route));
  }

  async resetTraffic(): Promise<SupervisorStatus> {
    return supervisorStatusSchema.parse(await this.call('POST', '/traffic/reset'));
  }

  /** Asks the supervisor to stop its apps and exit, and waits until its pid is gone. */
  async shutdown(deadlineMilliseconds = 20_000): Promise<number | null> {
    const status = await this.status();
    if (status === null) return null;
    await this.call('POST', '/shutdown');
    const deadline = Date.now() + deadlineMilliseconds;
    while (isAlive(status.pid)) {
      if (Date.now() > deadline) {
        throw new LokiError(
          `The deploy supervisor (pid ${String(status.pid)}) did not exit; see ${this.files.logFile}`,
          {
            code: 'DEPLOY_SUPERVISOR_STUCK',
            category: 'internal',
          },
        );
      }
      await delay(POLL_MILLISECONDS);
    }
    return status.pid;
  }

  /** The running supervisor, or a new detached one (it outlives this process). */
  async ensureRunning(env: NodeJS.ProcessEnv): Promise<SupervisorStatus> {
    const running = await this.status();
    if (running !== null) return running;
    mkdirSync(this.files.logsDirectory, { recursive: true });
    const output = openSync(this.files.logFile, 'a');
    let exitCode: number | null = null;
    try {
      const child = spawn(
        process.execPath,
        [LOKI_ENTRY_POINT, 'deploy', 'supervise', '--workspace', this.workspaceRoot],
        { detached: true, stdio: ['ignore', output, output], env },
      );
      child.on('exit', (code) => (exitCode = code ?? 1));
      child.unref();
    } finally {
      closeSync(output);
    }
    const deadline = Date.now() + START_DEADLINE_MILLISECONDS;
    for (;;) {
      const status = await this.status();
      if (status !== null) return status;
      if (exitCode !== null || Date.now() > deadline) {
        const tail = existsSync(this.files.logFile)
          ? readFileSync(this.files.logFile, 'utf8').slice(-1500)
          : '';
        throw new LokiError(
          `The deploy supervisor did not start; its log ${this.files.logFile} ends:\n${tail}`,
          {
            code: 'DEPLOY_SUPERVISOR_START_FAILED',
            category: 'internal',
          },
        );
      }
      await delay(POLL_MILLISECONDS);
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return await new Promise((resolve, reject) => {
      const outgoing = request(
        {
          socketPath: this.files.socket,
          method,
          path,
          headers: payload === undefined ? {} : { 'content-type': 'application/json' },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('error', reject);
          response.on('end', () => {
            const parsed = parseJson(text);
            if ((response.statusCode ?? 500) >= 400) {
              const message =
                typeof parsed === 'object' && parsed !== null && 'error' in parsed
                  ? String(parsed.error)
                  : text;
              reject(
                new LokiError(`The deploy supervisor refused ${method} ${path}: ${message}`, {
                  code: 'DEPLOY_SUPERVISOR_REFUSED',
                  category: 'internal',
                }),
              );
            } else resolve(parsed);
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new LokiError(`The deploy supervisor answered something that is not JSON: ${text.slice(0, 200)}`, {
      code: 'DEPLOY_SUPERVISOR_PROTOCOL',
      category: 'internal',
      cause: error,
    });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
    throw error;
  }
}

/** A zombie has exited (its parent has not reaped it yet): for "is it still serving" it is gone. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
}
