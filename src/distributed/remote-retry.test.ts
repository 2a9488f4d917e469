import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitOutput as git } from '../../test/support/git.ts';
import { ManualClock } from '../clock/index.ts';
import { isLokiError, LokiError } from '../errors/index.ts';
import { queueWaitOf } from '../resilience/index.ts';
import { redactRemoteUrl, REMOTE_GIT_UNAVAILABLE } from './remote-failure.ts';
import { RemoteRetry } from './remote-retry.ts';
import { GitRemoteSync } from './remote-sync.ts';

describe('RemoteRetry with a real remote', () => {
  let root: string;
  let remote: string;
  let clone: string;
  const clock = new ManualClock();
  let waits: number[];
  let warnings: string[];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'loki-remote-retry-'));
    remote = join(root, 'remote.git');
    git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
    const seed = join(root, 'seed');
    git(root, 'clone', '--quiet', remote, seed);
    writeFileSync(join(seed, 'a.txt'), 'a\n');
    git(seed, 'add', '--all');
    git(seed, 'commit', '--quiet', '-m', 'first');
    git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
    clone = join(root, 'worker');
    git(root, 'clone', '--quiet', remote, clone);
    git(clone, 'checkout', '--quiet', '--detach');
    // Main moves on the remote after the worker cloned: the next sync must bring it.
    writeFileSync(join(seed, 'b.txt'), 'b\n');
    git(seed, 'add', '--all');
    git(seed, 'commit', '--quiet', '-m', 'second');
    git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
    waits = [];
    warnings = [];
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** A sync of the worker's clone with `url`, whose waits run `duringWait` instead of sleeping. */
  function syncWith(url: string, duringWait: () => void = () => undefined) {
    const retry = new RemoteRetry({
      remoteUrl: url,
      clock,
      sleep: async (milliseconds) => {
        waits.push(milliseconds);
        duringWait();
      },
      onUnavailable: (text) => warnings.push(text),
    });
    const sync = new GitRemoteSync({
      repositoryRoot: clone,
      remoteUrl: url,
      mainBranch: 'main',
      followMain: true,
      retry,
    });
    return { retry, prepare: () => sync.prepareTask('t1', new AbortController().signal) };
  }

  it('syncs once the remote is back: a remote gone for a moment costs a wait, not the task', async () => {
    renameSync(remote, `${remote}.away`);
    const { retry, prepare } = syncWith(remote, () => renameSync(`${remote}.away`, remote));
    await prepare();
    expect(waits).toEqual([1000]);
    expect(git(clone, 'rev-parse', 'refs/heads/main')).toBe(git(remote, 'rev-parse', 'main'));
    expect(retry.failuresInRow).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('tries again when another git process holds the ref lock in the clone', async () => {
    const lock = join(clone, '.git', 'refs', 'heads', 'main.lock');
    writeFileSync(lock, '');
    let isLockHeld = true;
    const { prepare } = syncWith(remote, () => {
      if (!isLockHeld) rmSync(lock);
    });
    // Held through every try: the task waits in the queue, and the message says why.
    const held = await prepare().catch((error: unknown) => error);
    expect(queueWaitOf(held)?.reason).toMatch(/another git process held a lock in this clone.*main\.lock/);
    isLockHeld = false;
    await prepare();
    expect(waits).toEqual([1000, 2000, 1000]);
    expect(git(clone, 'rev-parse', 'refs/heads/main')).toBe(git(remote, 'rev-parse', 'main'));
  });

  it('gives up on a remote that stays unreachable: the task waits in the queue, the remote named without its token', async () => {
    // Nothing listens on the discard port: git's connection is refused.
    const url = 'http://loki:s3cr3t-remote-token@127.0.0.1:9/remote.git';
    const { retry, prepare } = syncWith(url);
    const failures: unknown[] = [];
    for (let sync = 0; sync < 2; sync += 1) failures.push(await prepare().catch((error: unknown) => error));
    expect(waits).toEqual([1000, 2000, 1000, 2000]);
    for (const failure of failures) {
      expect(isLokiError(failure) && failure.code).toBe(REMOTE_GIT_UNAVAILABLE);
      expect(queueWaitOf(failure)).toEqual({
        notBefore: clock.now() + 10_000,
        reason: expect.stringContaining('http://loki:***@127.0.0.1:9/remote.git'),
      });
      expect(JSON.stringify([String(failure), (failure as LokiError).context])).not.toContain('s3cr3t');
    }
    expect(retry.failuresInRow).toBe(2);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(
      /^the run's remote http:\/\/loki:\*\*\*@127\.0\.0\.1:9\/remote\.git failed 2 time\(s\) in a row/,
    );
    expect(warnings.join('\n')).not.toContain('s3cr3t');
    expect(warnings[1]).toMatch(/git ls-remote .* failed: .*127\.0\.0\.1/);
  });

  it('does not retry what is not a remote failure', async () => {
    const retry = new RemoteRetry({
      remoteUrl: remote,
      sleep: async (milliseconds) => {
        waits.push(milliseconds);
      },
    });
    const bug = new LokiError('a bad ref name', {
      code: 'GIT_FAILED',
      category: 'internal',
      context: { stderr: 'fatal: bad ref' },
    });
    await expect(retry.run(() => Promise.reject(bug), new AbortController().signal)).rejects.toBe(bug);
    expect(waits).toEqual([]);
  });
});

describe('redactRemoteUrl', () => {
  it('hides a password or a token written as the user of an https remote; other forms carry none', () => {
    expect(redactRemoteUrl('https://x-access-token:ghs_abc123@github.com/o/r.git')).toBe(
      'https://x-access-token:***@github.com/o/r.git',
    );
    expect(redactRemoteUrl('https://ghp_abcdef@github.com/o/r.git')).toBe('https://***@github.com/o/r.git');
    expect(redactRemoteUrl('ssh://git@example.com/o/r.git')).toBe('ssh://git@example.com/o/r.git');
    expect(redactRemoteUrl('git@github.com:o/r.git')).toBe('git@github.com:o/r.git');
    expect(redactRemoteUrl('/srv/git/r.git')).toBe('/srv/git/r.git');
  });
});
