import { spawn } from 'node:child_process';

export type VersionResult = { isOk: true; version: string } | { isOk: false; reason: string };

export interface ReadVersionOptions {
  env: Readonly<Record<string, string | undefined>>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Enough for any `--version` banner; a tool that prints more is not answering the question. */
const MAX_OUTPUT_BYTES = 64 * 1024;

/**
 * Runs `<executable> --version` and returns its first line of output.
 *
 * spawn rather than execFile: execFile cannot ignore stdin and, on timeout, kills only the
 * direct child, so a wrapper script whose grandchild keeps the output pipe open would hang the
 * doctor. Here the child leads its own process group and the whole group is killed.
 */
export function readVersion(executablePath: string, options: ReadVersionOptions): Promise<VersionResult> {
  return new Promise((resolve) => {
    const child = spawn(executablePath, ['--version'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...options.env },
    });
    let stdout = '';
    let stderr = '';
    let hasTimedOut = false;
    let isSettled = false;

    const killGroup = () => {
      // The whole group, even if the direct child already exited: a grandchild may still hold the pipes.
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (error) {
        // ESRCH: the group is already gone, which is the outcome we wanted.
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
        finish({ isOk: false, reason: `--version hung and could not be stopped: ${String(error)}` });
      }
    };
    const finish = (result: VersionResult) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = () => {
      killGroup();
      finish({ isOk: false, reason: 'aborted' });
    };
    const timer = setTimeout(() => {
      hasTimedOut = true;
      killGroup();
    }, options.timeoutMs);

    if (options.signal?.aborted === true) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < MAX_OUTPUT_BYTES) stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT_BYTES) stderr += chunk;
    });
    child.on('error', (error) => finish({ isOk: false, reason: error.message }));
    child.on('close', (exitCode, signal) => {
      if (hasTimedOut)
        return finish({ isOk: false, reason: `--version did not answer within ${options.timeoutMs} ms` });
      if (exitCode !== 0) {
        const status = exitCode === null ? `was killed by ${signal}` : `exited with code ${exitCode}`;
        const said = firstLine(stderr) ?? firstLine(stdout);
        return finish({ isOk: false, reason: `--version ${status}${said === undefined ? '' : `: ${said}`}` });
      }
      const version = firstLine(stdout) ?? firstLine(stderr);
      if (version === undefined) return finish({ isOk: false, reason: '--version printed nothing' });
      finish({ isOk: true, version });
    });
  });
}

/** The first non-blank line, trimmed and capped so one odd tool cannot flood the report. */
function firstLine(text: string): string | undefined {
  const line = text
    .split('\n')
    .map((candidate) => candidate.trim())
    .find((candidate) => candidate !== '');
  return line === undefined ? undefined : line.slice(0, 120);
}
