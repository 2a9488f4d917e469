/**
 * The conformance suite every CommandRunner must pass (plain and bubblewrap). It runs real shell
 * commands in a temp directory and checks the process table itself for survivors, because "no
 * orphan processes" is the promise agents and CI machines depend on.
 */
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLokiError, errorCode } from '../errors/index.ts';
import type { CommandRequest, CommandRunner } from './command-runner.ts';

export type CreateCommandRunner = () => CommandRunner | Promise<CommandRunner>;

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Command lines of live processes containing `marker` (zombies have empty command lines). */
export async function findProcessesWithMarker(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const commandLine = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (commandLine.includes(marker)) found.push(`${entry}: ${commandLine}`);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ESRCH') throw error;
    }
  }
  return found;
}

/** Polls until a process with `marker` runs: used to abort only once the command really started. */
async function waitForMarker(marker: string, timeoutMilliseconds: number): Promise<void> {
  const deadline = performance.now() + timeoutMilliseconds;
  while ((await findProcessesWithMarker(marker)).length === 0) {
    if (performance.now() > deadline) throw new Error(`no process with marker ${marker} appeared`);
    await delay(20);
  }
}

/** A `sleep` duration nobody else uses, so its command line identifies our processes. */
function uniqueSleepSeconds(): string {
  return `300.${randomInt(100_000, 999_999)}`;
}

/**
 * `requestDefaults` go into every request the suite makes (a test may still override them), e.g.
 * `{ allowNetwork: true }` to hold a runner to the same promises with its network in use.
 */
export function describeCommandRunnerConformance(
  runnerName: string,
  createRunner: CreateCommandRunner,
  requestDefaults: Partial<CommandRequest> = {},
): void {
  describe(`CommandRunner conformance: ${runnerName}`, () => {
    let worktree: string;
    let runner: CommandRunner;

    beforeEach(async () => {
      worktree = await realpath(await mkdtemp(join(tmpdir(), 'loki-runner-conformance-')));
      runner = await createRunner();
    });

    afterEach(async () => {
      await rm(worktree, { recursive: true, force: true });
    });

    function request(command: string, overrides: Partial<CommandRequest> = {}): CommandRequest {
      return {
        command,
        cwd: worktree,
        writableDirectory: worktree,
        timeoutMilliseconds: 20_000,
        env: { PATH: BASE_PATH },
        allowNetwork: false,
        maxOutputBytes: 64 * 1024,
        ...requestDefaults,
        ...overrides,
      };
    }

    it('reports exit codes', async () => {
      expect((await runner.run(request('true'))).exitCode).toBe(0);
      const failed = await runner.run(request('exit 7'));
      expect(failed).toMatchObject({ exitCode: 7, timedOut: false, truncated: false });
    });

    it('captures stdout and stderr separately', async () => {
      const result = await runner.run(request('echo out; echo err >&2; printf "no newline"'));
      expect(result.stdout).toBe('out\nno newline');
      expect(result.stderr).toBe('err\n');
      expect(result.durationMilliseconds).toBeGreaterThanOrEqual(0);
    });

    it('runs in the requested directory and can write there', async () => {
      const subdirectory = join(worktree, 'packages', 'api');
      await mkdir(subdirectory, { recursive: true });
      const result = await runner.run(request('pwd && echo written > out.txt', { cwd: subdirectory }));
      expect(result.stdout.trim()).toBe(subdirectory);
      expect(await readFile(join(subdirectory, 'out.txt'), 'utf8')).toBe('written\n');
    });

    it('passes exactly the given environment, nothing from the parent', async () => {
      process.env.LOKI_CONFORMANCE_PARENT_ONLY = 'leaked';
      try {
        const result = await runner.run(
          request('echo "$GREETING [${LOKI_CONFORMANCE_PARENT_ONLY:-absent}]"', {
            env: { PATH: BASE_PATH, GREETING: 'hello' },
          }),
        );
        expect(result.stdout).toBe('hello [absent]\n');
      } finally {
        delete process.env.LOKI_CONFORMANCE_PARENT_ONLY;
      }
    });

    it('keeps the head and tail of output beyond the limit', async () => {
      const result = await runner.run(
        request(`echo START; head -c 200000 /dev/zero | tr '\\0' a; echo; echo END`, {
          maxOutputBytes: 1_000,
        }),
      );
      expect(result.truncated).toBe(true);
      expect(result.exitCode).toBe(0);
      expect(result.stdout.startsWith('START\naaa')).toBe(true);
      expect(result.stdout.endsWith('aaa\nEND\n')).toBe(true);
      expect(result.stdout).toMatch(/bytes of output omitted/);
      expect(result.stdout.length).toBeLessThan(1_100);
    });

    it('kills the whole process tree on timeout and leaves no process behind', async () => {
      const seconds = uniqueSleepSeconds();
      const startedAt = performance.now();
      const result = await runner.run(
        request(`(sleep ${seconds} &); setsid sleep ${seconds} & sleep ${seconds} & sleep ${seconds}; wait`, {
          timeoutMilliseconds: 500,
        }),
      );
      expect(result.timedOut).toBe(true);
      expect(result.exitCode).not.toBe(0);
      expect(performance.now() - startedAt).toBeLessThan(15_000);
      expect(await findProcessesWithMarker(seconds)).toEqual([]);
    });

    it('escalates to SIGKILL when the command ignores SIGTERM', async () => {
      const seconds = uniqueSleepSeconds();
      const result = await runner.run(
        request(`trap "" TERM; sleep ${seconds}`, { timeoutMilliseconds: 300 }),
      );
      expect(result.timedOut).toBe(true);
      expect(await findProcessesWithMarker(seconds)).toEqual([]);
    });

    it('ends background jobs when the command itself exits', async () => {
      const seconds = uniqueSleepSeconds();
      const result = await runner.run(request(`sleep ${seconds} > /dev/null 2>&1 & echo started`));
      expect(result).toMatchObject({ exitCode: 0, stdout: 'started\n', timedOut: false });
      expect(await findProcessesWithMarker(seconds)).toEqual([]);
    });

    it('stops the process tree on abort and rejects with the abort reason', async () => {
      const seconds = uniqueSleepSeconds();
      const controller = new AbortController();
      const running = runner.run(
        request(`sleep ${seconds} & sleep ${seconds}; wait`, { signal: controller.signal }),
      );
      await waitForMarker(seconds, 10_000);
      controller.abort();
      const outcome = await running.then(
        () => 'resolved',
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).name).toBe('AbortError');
      expect(await findProcessesWithMarker(seconds)).toEqual([]);
    });

    it('does not start a command when the signal is already aborted', async () => {
      const marker = join(worktree, 'should-not-exist');
      const outcome = await runner.run(request(`touch ${marker}`, { signal: AbortSignal.abort() })).then(
        () => 'resolved',
        (error: unknown) => (error instanceof Error ? error.name : String(error)),
      );
      expect(outcome).toBe('AbortError');
      await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
    });

    it('redacts secrets from the environment and well-known token shapes', async () => {
      const result = await runner.run(
        request('echo "key=$SERVICE_API_KEY"; echo "sk-ant-api03-abcdefghijklmnopqrstuvwxyz" >&2', {
          env: { PATH: BASE_PATH, SERVICE_API_KEY: 'correct-horse-battery-staple' },
        }),
      );
      expect(result.stdout).toBe('key=[REDACTED]\n');
      expect(result.stderr).toBe('[REDACTED]\n');
    });

    it('rejects a relative or missing working directory with a clear error', async () => {
      for (const cwd of ['relative/path', join(worktree, 'missing')]) {
        const error = await runner.run(request('true', { cwd })).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(isLokiError(error) && error.code).toBe('SANDBOX_INVALID_REQUEST');
      }
    });
  });
}
