import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { LokiError } from '../errors/index.ts';
import { type CommandResult, type CommandRunner, createRedactor } from '../sandbox/index.ts';
import { APP_SUPERVISOR_SOURCE } from './app-supervisor-source.ts';

export interface StartAppOptions {
  runner: CommandRunner;
  projectDirectory: string;
  /** May be model-written: it runs in the sandbox only. */
  startCommand: string;
  /** The complete environment of the app (see `buildSandboxEnvironment`); PORT is added. */
  env: Readonly<Record<string, string>>;
  /** The longest the app may run, all of its starts together. */
  timeoutMilliseconds: number;
  signal?: AbortSignal;
  /** The node that runs the supervisor; defaults to the one running Loki (readable in the sandbox). */
  nodeExecutable?: string;
}

export interface HealthWait {
  healthy: boolean;
  /** The last HTTP status seen; null when nothing answered. */
  statusCode: number | null;
  durationMilliseconds: number;
  /** Why it is not healthy; empty when it is. */
  reason: string;
}

/** A process the app's start command started that listens on a port of its own. */
export interface AppDependency {
  pid: number;
  ports: number[];
  command: string;
}

const HEALTH_POLL_MILLISECONDS = 100;
const GREETING_LIMIT_BYTES = 256;

/**
 * The product, started for the app gates: its start command runs in the sandbox through the
 * runner (with the network policy of a command without network), beside a small supervisor of
 * ours (see app-supervisor-source.ts). Loki's tools reach it at `url`, a port on Loki's own
 * 127.0.0.1 bridged to the app through a unix socket in the project directory, whatever network
 * namespace the sandbox has. Stopping it (dispose, also on abort) ends the runner's command, and
 * the runner's invariant holds: no process of the app is left.
 */
export class AppUnderTest implements AsyncDisposable {
  readonly url: string;
  readonly #bridge: Server;
  readonly #socketLink: string;
  readonly #socketFile: string;
  readonly #nonce: string;
  readonly #stopping = new AbortController();
  readonly #run: Promise<CommandResult | 'stopped'>;
  readonly #redact: (text: string) => string;
  #finished: CommandResult | 'stopped' | null = null;
  #stopped: Promise<void> | null = null;

  private constructor(options: StartAppOptions, bridge: Server, nonce: string, socketName: string) {
    const address = bridge.address();
    if (address === null || typeof address === 'string') {
      throw new LokiError('The app bridge has no TCP address on 127.0.0.1.', {
        code: 'APP_BRIDGE_NO_PORT',
        category: 'internal',
      });
    }
    this.url = `http://127.0.0.1:${String(address.port)}`;
    this.#bridge = bridge;
    this.#nonce = nonce;
    this.#socketFile = join(options.projectDirectory, socketName);
    // A unix socket path is limited to about 107 bytes; the link in a short temporary folder is not.
    const linkDirectory = mkdtempSync(join(tmpdir(), 'loki-app-'));
    this.#socketLink = join(linkDirectory, 's');
    symlinkSync(this.#socketFile, this.#socketLink);
    const redactor = createRedactor({ env: options.env });
    this.#redact = (text) => redactor.redact(text);
    this.#run = this.#start(options, socketName);
    // Marks the run's failure as handled until stop() awaits it and rethrows it to the caller.
    this.#run.catch(() => undefined);
    bridge.on('connection', (client) => this.#forward(client));
  }

  static async start(options: StartAppOptions): Promise<AppUnderTest> {
    options.signal?.throwIfAborted();
    const bridge = createServer({ pauseOnConnect: true });
    bridge.listen(0, '127.0.0.1');
    await once(bridge, 'listening');
    const nonce = randomBytes(16).toString('hex');
    return new AppUnderTest(options, bridge, nonce, `.loki-app-${nonce.slice(0, 12)}.sock`);
  }

  #start(options: StartAppOptions, socketName: string): Promise<CommandResult | 'stopped'> {
    const signal =
      options.signal === undefined
        ? this.#stopping.signal
        : AbortSignal.any([options.signal, this.#stopping.signal]);
    return chooseFreePort().then((port) =>
      options.runner
        .run({
          command: `"$LOKI_NODE" -e "$LOKI_APP_SUPERVISOR" ${socketName} ${String(port)} ${this.#nonce}`,
          cwd: options.projectDirectory,
          writableDirectory: options.projectDirectory,
          timeoutMilliseconds: options.timeoutMilliseconds,
          env: {
            ...options.env,
            PORT: String(port),
            LOKI_START_COMMAND: options.startCommand,
            LOKI_APP_SUPERVISOR: APP_SUPERVISOR_SOURCE,
            LOKI_NODE: options.nodeExecutable ?? realpathSync(process.execPath),
          },
          allowNetwork: false,
          maxOutputBytes: 256 * 1024,
          signal,
        })
        .then(
          (result) => (this.#finished = result),
          (error: unknown) => {
            // Our own stop is how the app is meant to end; any other abort or failure is the caller's.
            if (this.#stopping.signal.aborted && !(options.signal?.aborted ?? false)) {
              this.#finished = 'stopped';
              return 'stopped' as const;
            }
            throw error;
          },
        ),
    );
  }

  /** The app's sandboxed command has ended: it exited by itself (or timed out), or was stopped. */
  get hasExited(): boolean {
    return this.#finished !== null;
  }

  /** Polls the health path until a 2xx answer, the app's exit, or the deadline. */
  async waitUntilHealthy(healthPath: string, timeoutMilliseconds: number): Promise<HealthWait> {
    const started = performance.now();
    const deadline = started + timeoutMilliseconds;
    let statusCode: number | null = null;
    for (;;) {
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const response = await fetch(this.url + healthPath, {
          redirect: 'manual',
          signal: AbortSignal.timeout(Math.max(100, Math.min(2_000, deadline - performance.now()))),
        });
        statusCode = response.status;
        await response.body?.cancel();
        if (statusCode >= 200 && statusCode < 300) {
          return { healthy: true, statusCode, durationMilliseconds: elapsed(), reason: '' };
        }
      } catch {
        // Not listening yet (the bridge drops the connection), or too slow: ask again until the deadline.
      }
      if (this.hasExited) {
        const exit = this.#finished === 'stopped' ? 'was stopped' : describeExit(this.#finished);
        return {
          healthy: false,
          statusCode,
          durationMilliseconds: elapsed(),
          reason: `the app ${exit} before ${healthPath} answered 2xx`,
        };
      }
      if (performance.now() >= deadline) {
        return {
          healthy: false,
          statusCode,
          durationMilliseconds: elapsed(),
          reason: `no 2xx answer from ${healthPath} within ${String(timeoutMilliseconds)} ms (last status: ${statusCode ?? 'none'})`,
        };
      }
      await delay(HEALTH_POLL_MILLISECONDS);
    }
  }

  /** Kills the app's whole process group with SIGKILL, as a crash would, and starts it again. */
  async restart(): Promise<void> {
    const answer = await this.#ask('restart');
    if (answer.trim() !== 'ok') {
      throw new LokiError(`The app could not be restarted: ${answer.trim() || 'no answer'}.`, {
        code: 'APP_RESTART_FAILED',
        category: 'internal',
      });
    }
  }

  /** Kills (SIGKILL) the processes the start command started that listen on another port. */
  async cutDependencies(): Promise<AppDependency[]> {
    const answer = await this.#ask('cut');
    const parsed: unknown = JSON.parse(answer);
    return Array.isArray(parsed) ? (parsed as AppDependency[]) : [];
  }

  /** The end of the app's output (redacted): what it printed before it failed. */
  async outputTail(): Promise<string> {
    if (this.#finished !== null && this.#finished !== 'stopped') {
      return `${this.#finished.stderr}\n${this.#finished.stdout}`.trim().slice(-4_000);
    }
    if (this.#finished === 'stopped') return '';
    return this.#redact(await this.#ask('output'));
  }

  async stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping.abort(new Error('the app under test was stopped'));
    try {
      await this.#run;
    } finally {
      this.#bridge.close();
      rmSync(this.#socketFile, { force: true });
      rmSync(join(this.#socketLink, '..'), { recursive: true, force: true });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** One connection to the supervisor, after it proved it is ours; the request line sent. */
  async #open(request: string): Promise<Socket> {
    const socket = connect(this.#socketLink);
    // Errors end the connection (the supervisor is gone, or not listening yet); the greeting
    // read below then sees the close and the caller gets an error that says so.
    let failure: Error | null = null;
    socket.on('error', (error) => {
      failure = error;
      socket.destroy();
    });
    const greeting = await readLine(socket);
    if (greeting === null) {
      throw new LokiError(
        `The app's supervisor closed the connection before greeting (${failure === null ? 'closed' : String(failure)}): the app is not up or is gone.`,
        { code: 'APP_BRIDGE_CLOSED', category: 'user' },
      );
    }
    if (greeting !== `LOKI ${this.#nonce}`) {
      socket.destroy();
      throw new LokiError(
        'The app bridge socket did not answer as the supervisor Loki started: something else holds it.',
        { code: 'APP_BRIDGE_IMPOSTOR', category: 'user' },
      );
    }
    socket.write(`${request}\n`);
    return socket;
  }

  async #ask(request: string): Promise<string> {
    const socket = await this.#open(request);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    await once(socket, 'close');
    return Buffer.concat(chunks).toString();
  }

  #forward(client: Socket): void {
    client.on('error', () => client.destroy());
    this.#open('proxy').then(
      (upstream) => {
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      },
      // The app is not listening yet, or gone: the client sees a closed connection, as it would.
      () => client.destroy(),
    );
  }
}

/**
 * The first line the peer sends, without its newline; null when it closes first or sends more than
 * a greeting's worth without one. Nothing is written before: an impostor learns nothing from Loki.
 */
function readLine(socket: Socket): Promise<string | null> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const finish = (line: string | null) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      resolve(line);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf(10);
      if (end !== -1) finish(received.subarray(0, end).toString());
      else if (received.length > GREETING_LIMIT_BYTES) finish(null);
    };
    const onClose = () => finish(null);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

function describeExit(result: CommandResult | null | 'stopped'): string {
  if (result === null || result === 'stopped') return 'was stopped';
  if (result.timedOut) return 'ran out of time';
  return `exited by itself (${result.signal ?? `exit ${String(result.exitCode)}`})`;
}

/** A port the kernel just reported free on 127.0.0.1; another process could still take it first. */
async function chooseFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') {
    throw new LokiError('Could not pick a free port on 127.0.0.1 for the app under test.', {
      code: 'APP_NO_PORT',
      category: 'internal',
    });
  }
  return address.port;
}
