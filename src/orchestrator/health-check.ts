import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { LokiError } from '../errors/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';

export interface CheckHealthOptions {
  runner: CommandRunner;
  /** Where the start command runs; also the directory the sandbox lets it write to. */
  cwd: string;
  /** Model-written (from the architecture): starts the product's server in the foreground. */
  startCommand: string;
  /** For example `/health`; requested on `http://127.0.0.1:$PORT`. */
  healthPath: string;
  /** The complete environment of the command (see `buildSandboxEnvironment`); PORT is added. */
  env: Readonly<Record<string, string>>;
  /** How long the server has to answer 2xx, counted from the moment the command starts. */
  timeoutMilliseconds?: number;
  signal?: AbortSignal;
  /** The node that runs the probe; defaults to the one running Loki (readable inside the sandbox). */
  nodeExecutable?: string;
}

export interface HealthCheckResult {
  passed: boolean;
  /** The last HTTP status the probe saw; null when nothing ever answered. */
  statusCode: number | null;
  port: number;
  durationMilliseconds: number;
  /** The end of the server's output (and the probe's notes), for the report and the next attempt. */
  outputTail: string;
}

const DEFAULT_TIMEOUT_MILLISECONDS = 30_000;
/** Beyond the probe's own deadline: node start-up, stopping the server, draining output. */
const RUNNER_TIMEOUT_MARGIN_MILLISECONDS = 10_000;
const OUTPUT_TAIL_CHARACTERS = 4_000;
const MAX_OUTPUT_BYTES = 256 * 1024;

/**
 * The probe, written by us and run with `node -e`. Arguments: server pid, port, nonce, wait in
 * milliseconds; the health path comes from LOKI_HEALTH_PATH (it may be model-written, so it is
 * never spliced into code). It polls every 100 ms until a 2xx answer or the deadline, and stops
 * early when the start command has exited and nothing answers within a second after that.
 */
const PROBE_SOURCE = String.raw`
const fs = require('node:fs');
const [serverPidText, port, nonce, waitText] = process.argv.slice(1);
const serverPid = Number(serverPidText);
const url = 'http://127.0.0.1:' + port + process.env.LOKI_HEALTH_PATH;
const deadline = Date.now() + Number(waitText);
const exitGraceMilliseconds = 1000;
const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));
function serverHasExited() {
  try {
    const stat = fs.readFileSync('/proc/' + serverPid + '/stat', 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch (error) {
    if (error.code !== 'ENOENT' && error.code !== 'ESRCH') throw error;
  }
  try {
    process.kill(serverPid, 0);
    return false;
  } catch (error) {
    return error.code === 'ESRCH';
  }
}
function report(status, note) {
  if (note) process.stderr.write('loki health check: ' + note + '\n');
  process.stdout.write('LOKI_HEALTH ' + nonce + ' ' + status + '\n');
  process.exit(typeof status === 'number' && status >= 200 && status < 300 ? 0 : 1);
}
(async () => {
  let lastStatus = 'none';
  let exitedAt = null;
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      const response = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(Math.max(100, Math.min(2000, remaining))),
      });
      lastStatus = response.status;
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) report(response.status);
    } catch {
      // Not listening yet, or the request timed out: try again until the deadline.
    }
    if (exitedAt === null && serverHasExited()) exitedAt = Date.now();
    if (exitedAt !== null && Date.now() - exitedAt >= exitGraceMilliseconds) {
      report(lastStatus, 'the start command exited before the server answered ' + url + ' with 2xx');
    }
    if (Date.now() >= deadline) {
      report(lastStatus, 'no 2xx answer from ' + url + ' within ' + waitText + ' ms (last status: ' + lastStatus + ')');
    }
    await sleep(100);
  }
})();
`;

/**
 * The harness's own proof that the product boots: start the server, ask its health endpoint, stop
 * it. One shell command through the runner, so the server runs sandboxed like every other command
 * (a sandbox without network still has its own loopback).
 *
 * The model-written start command cannot fake a pass by printing text: the server's stdout goes to
 * stderr, and only a `LOKI_HEALTH <nonce> <status>` line with this check's random nonce counts.
 * The nonce guards against printed text, not against a server that digs through /proc for its
 * parent's arguments — one that can do that can as easily answer 200 for real.
 */
export async function checkHealth(options: CheckHealthOptions): Promise<HealthCheckResult> {
  const timeoutMilliseconds = options.timeoutMilliseconds ?? DEFAULT_TIMEOUT_MILLISECONDS;
  const port = await chooseFreePort();
  const nonce = randomBytes(16).toString('hex');
  const healthPath = options.healthPath.startsWith('/') ? options.healthPath : `/${options.healthPath}`;
  const result = await options.runner.run({
    command: buildHealthScript({ port, nonce, waitMilliseconds: timeoutMilliseconds }),
    cwd: options.cwd,
    writableDirectory: options.cwd,
    timeoutMilliseconds: timeoutMilliseconds + RUNNER_TIMEOUT_MARGIN_MILLISECONDS,
    env: {
      ...options.env,
      PORT: String(port),
      LOKI_START_COMMAND: options.startCommand,
      LOKI_HEALTH_PATH: healthPath,
      LOKI_HEALTH_PROBE: PROBE_SOURCE,
      LOKI_NODE: options.nodeExecutable ?? process.execPath,
    },
    allowNetwork: false,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });

  const probeLine = new RegExp(`^LOKI_HEALTH ${nonce} (\\d{3}|none)$`);
  let reported: string | null = null;
  for (const line of result.stdout.split('\n')) {
    const match = probeLine.exec(line.trim());
    if (match !== null) reported = match[1] ?? null;
  }
  const statusCode = reported === null || reported === 'none' ? null : Number(reported);
  const passed =
    !result.timedOut && result.exitCode === 0 && statusCode !== null && statusCode >= 200 && statusCode < 300;
  const timeoutNote = result.timedOut ? '\n[timed out]' : '';
  const output = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .filter((line) => !line.includes(nonce))
    .join('\n')
    .trim();
  return {
    passed,
    statusCode,
    port,
    durationMilliseconds: result.durationMilliseconds,
    outputTail: (output + timeoutNote).slice(-OUTPUT_TAIL_CHARACTERS),
  };
}

/**
 * The script the runner executes. Only numbers and the hex nonce are spliced in; the start command,
 * the health path and the probe arrive through the environment. The server is stopped by signalling
 * the script's process group (the runner starts every command as a group leader; checked via /proc
 * before signalling, so a runner that did not would not have Loki itself signalled); whatever
 * survives is killed by the runner when the script exits.
 */
function buildHealthScript(parameters: { port: number; nonce: string; waitMilliseconds: number }): string {
  return [
    'sh -c "$LOKI_START_COMMAND" >&2 &',
    'loki_server=$!',
    `"$LOKI_NODE" -e "$LOKI_HEALTH_PROBE" "$loki_server" ${parameters.port} ${parameters.nonce} ${parameters.waitMilliseconds}`,
    'loki_status=$?',
    "trap '' TERM",
    'if [ -r /proc/$$/stat ]; then',
    '  read -r loki_stat < /proc/$$/stat',
    '  set -- $loki_stat',
    '  [ "$5" = "$$" ] && kill -TERM 0 2>/dev/null',
    'fi',
    'exit $loki_status',
  ].join('\n');
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
    throw new LokiError('Could not pick a free port on 127.0.0.1 for the health check.', {
      code: 'HEALTH_CHECK_NO_PORT',
      category: 'internal',
      context: { address },
    });
  }
  return address.port;
}
