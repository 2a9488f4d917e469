import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BubblewrapRunner, buildBubblewrapArguments } from './bubblewrap-runner.ts';
import type { CommandRequest } from './command-runner.ts';
import { describeCommandRunnerConformance, findProcessesWithMarker } from './command-runner-conformance.ts';
import { findExecutable } from './find-executable.ts';

const bubblewrapPath = findExecutable('bwrap', process.env.PATH);
const TIMING = {
  killGraceMilliseconds: 500,
  killDeadlineMilliseconds: 5_000,
  outputDrainMilliseconds: 1_000,
};
const SKIP_NOTE =
  bubblewrapPath === undefined ? ' (SKIPPED: bwrap is not on PATH — apt-get install bubblewrap)' : '';
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

describe('buildBubblewrapArguments', () => {
  const request: CommandRequest = {
    command: 'make test',
    cwd: '/work/tree/src',
    writableDirectory: '/work/tree',
    timeoutMilliseconds: 1_000,
    env: {},
    allowNetwork: false,
    maxOutputBytes: 100,
  };

  it('takes the network away unless it is allowed', () => {
    expect(buildBubblewrapArguments(request, [])).toContain('--unshare-net');
    expect(buildBubblewrapArguments({ ...request, allowNetwork: true }, [])).not.toContain('--unshare-net');
  });

  it('binds the worktree read-write between the tmpfs mounts and the masks', () => {
    const argumentsList = buildBubblewrapArguments(request, [{ path: '/home/a/.ssh', kind: 'directory' }]);
    const bindIndex = argumentsList.indexOf('--bind');
    expect(argumentsList.slice(bindIndex, bindIndex + 3)).toEqual(['--bind', '/work/tree', '/work/tree']);
    expect(argumentsList.indexOf('/run')).toBeLessThan(bindIndex);
    expect(argumentsList.indexOf('/home/a/.ssh')).toBeGreaterThan(bindIndex);
    expect(argumentsList).toEqual(expect.arrayContaining(['--cap-drop', 'ALL', '--die-with-parent']));
    expect(argumentsList.slice(-2)).toEqual(['sh', 'make test']);
  });

  it('runs the command behind a lifeline watcher, only ever inside its own PID namespace', () => {
    const argumentsList = buildBubblewrapArguments(request, []);
    const watcher = argumentsList.at(-3) ?? '';
    expect(argumentsList.slice(-4, -3)).toEqual(['-c']);
    expect(watcher).toContain('kill -9 -1');
    expect(watcher).toMatch(/exec \/bin\/sh -c "\$1"$/);
    // `kill -1` outside a PID namespace of its own would reach every process of the user.
    expect(argumentsList).toContain('--unshare-pid');
  });
});

if (bubblewrapPath !== undefined) {
  const path = bubblewrapPath;
  describeCommandRunnerConformance(
    'bubblewrap',
    () => new BubblewrapRunner({ bubblewrapPath: path, timing: TIMING }),
  );
}

describe.skipIf(bubblewrapPath === undefined)(`bubblewrap isolation${SKIP_NOTE}`, () => {
  let worktree: string;
  let fakeHome: string;
  let runner: BubblewrapRunner;
  let server: Server;
  let serverPort: number;
  let requestsServed: number;

  beforeAll(async () => {
    requestsServed = 0;
    server = createServer((_request, response) => {
      requestsServed += 1;
      response.end('hello from the host');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('server has no port');
    serverPort = address.port;
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  beforeEach(async () => {
    worktree = await realpath(await mkdtemp(join(tmpdir(), 'loki-bwrap-worktree-')));
    // Inside the worktree because the sandbox's own /tmp hides everything else under /tmp.
    fakeHome = join(worktree, 'home');
    await mkdir(fakeHome);
    runner = new BubblewrapRunner({
      bubblewrapPath: bubblewrapPath ?? 'bwrap',
      homeDirectory: fakeHome,
      timing: TIMING,
    });
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
      env: { PATH: BASE_PATH, HOME: fakeHome },
      allowNetwork: false,
      maxOutputBytes: 64 * 1024,
      ...overrides,
    };
  }

  const fetchCommand = (): string =>
    `"${process.execPath}" -e "fetch('http://127.0.0.1:${serverPort}/').then((r) => r.text()).then((t) => console.log(t), (e) => { console.error('FETCH_FAILED', e.cause?.code ?? e.message); process.exit(3); })"`;

  it('returns only once every process of the sandbox is gone, even many left in the background', async () => {
    // Bubblewrap exits with the command while the kernel still kills the rest of its PID namespace.
    const marker = `300.${Date.now() % 1_000_000}`;
    for (let round = 0; round < 5; round += 1) {
      const result = await runner.run(
        request(`for i in $(seq 40); do sleep ${marker} > /dev/null 2>&1 & done; echo started`),
      );
      expect(result.stdout).toBe('started\n');
      expect(await findProcessesWithMarker(marker)).toEqual([]);
    }
  });

  it('finds the tools of a PATH folder that lives under /tmp, which its private /tmp would hide', async () => {
    // A toolchain unpacked under /tmp: bin/ holds a link into lib/, as npm and npx are.
    const toolchain = await realpath(await mkdtemp(join(tmpdir(), 'loki-bwrap-toolchain-')));
    try {
      await mkdir(join(toolchain, 'bin'));
      await mkdir(join(toolchain, 'lib'));
      await writeFile(join(toolchain, 'lib', 'tool.sh'), '#!/bin/sh\necho tool ran\n', { mode: 0o755 });
      await symlink('../lib/tool.sh', join(toolchain, 'bin', 'tool'));
      const result = await runner.run(
        request('tool', { env: { PATH: `${join(toolchain, 'bin')}:${BASE_PATH}` } }),
      );
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe('tool ran');
      // Read-only: the sandbox sees the toolchain, it cannot change it.
      const write = await runner.run(
        request(`touch '${join(toolchain, 'lib', 'planted')}'`, {
          env: { PATH: `${join(toolchain, 'bin')}:${BASE_PATH}` },
        }),
      );
      expect(write.exitCode).not.toBe(0);
      await expect(access(join(toolchain, 'lib', 'planted'))).rejects.toThrow();
    } finally {
      await rm(toolchain, { recursive: true, force: true });
    }
  });

  it('refuses network access, even to a server on the host loopback', async () => {
    const before = requestsServed;
    const result = await runner.run(request(fetchCommand()));
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/FETCH_FAILED ECONNREFUSED/);
    expect(requestsServed).toBe(before);
  });

  it('shares the host network when allowNetwork is set', async () => {
    const before = requestsServed;
    const result = await runner.run(request(fetchCommand(), { allowNetwork: true }));
    expect(result.stdout).toBe('hello from the host\n');
    expect(requestsServed).toBe(before + 1);
  });

  it('cannot write outside the worktree, not even as root', async () => {
    const outsideFile = join('/etc', `loki-sandbox-probe-${process.pid}`);
    const homeFile = join(homedir(), `loki-sandbox-probe-${process.pid}`);
    const result = await runner.run(
      request(
        `touch ${outsideFile}; echo "etc=$?"; touch ${homeFile}; echo "home=$?"; mount -o remount,rw / 2>/dev/null; echo "remount=$?"`,
      ),
    );
    expect(result.stdout).toMatch(/etc=1\nhome=1\nremount=(?!0)\d+/);
    expect(result.stderr).toMatch(/Read-only file system/);
    await expect(access(outsideFile)).rejects.toThrow(/ENOENT/);
    await expect(access(homeFile)).rejects.toThrow(/ENOENT/);
  });

  it('has a private /tmp that starts empty and is thrown away', async () => {
    const hostFile = join(tmpdir(), `loki-host-only-${process.pid}`);
    await writeFile(hostFile, 'host');
    try {
      const insideFile = `/tmp/loki-sandbox-only-${process.pid}`;
      const result = await runner.run(
        request(`test -e ${hostFile} && echo host-visible; echo inside > ${insideFile} && cat ${insideFile}`),
      );
      expect(result.stdout).toBe('inside\n');
      await expect(access(insideFile)).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(hostFile, { force: true });
    }
  });

  it('kills the command once its lifeline closes: Loki died before bubblewrap tied the sandbox to it', async () => {
    // Bubblewrap started as the runner starts it (fd 3: --info-fd, fd 4: the lifeline), but the
    // lifeline's other end is closed at once, as when Loki is killed while the sandbox is still being
    // set up (its --die-with-parent comes too late then, see buildBubblewrapArguments). The command
    // must not run on unwatched.
    const marker = `300.${Date.now() % 1_000_000}`;
    const sandbox = spawn(
      bubblewrapPath ?? 'bwrap',
      buildBubblewrapArguments(request(`sleep ${marker}; echo ran > ran.txt`), []),
      { cwd: worktree, detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const exited = once(sandbox, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    sandbox.stdio[4]?.destroy();
    try {
      const [code, signal] = await settleWithin(exited, 30_000, 'the sandboxed command still runs');

      // Bubblewrap reports the command's SIGKILL as 128 + 9.
      expect({ code, signal }).toEqual({ code: 137, signal: null });
      expect(await waitForNoProcessWithMarker(marker, 10_000)).toEqual([]);
      await expect(access(join(worktree, 'ran.txt'))).rejects.toThrow(/ENOENT/);
    } finally {
      if (sandbox.exitCode === null && sandbox.signalCode === null)
        process.kill(-(sandbox.pid ?? 0), 'SIGKILL');
      for (const line of await findProcessesWithMarker(marker))
        process.kill(Number(line.split(':')[0]), 'SIGKILL');
    }
  });

  it('sees only its own processes', async () => {
    const result = await runner.run(
      request(`test -e /proc/${process.pid} && echo host-pid-visible; echo "pid=$$"`),
    );
    expect(result.stdout).toMatch(/^pid=\d\n$/);
  });

  it('masks credential files in the home directory', async () => {
    await mkdir(join(fakeHome, '.ssh'));
    await writeFile(join(fakeHome, '.ssh', 'id_ed25519'), 'PRIVATE KEY MATERIAL');
    await writeFile(join(fakeHome, '.netrc'), 'machine example.com password hunter2hunter2');
    await writeFile(join(fakeHome, 'notes.txt'), 'readable');
    const result = await runner.run(
      request(`ls -A "$HOME/.ssh"; echo "[$(cat "$HOME/.netrc")]"; cat "$HOME/notes.txt"`),
    );
    expect(result.stdout).toBe('[]\nreadable');
    expect(await readFile(join(fakeHome, '.ssh', 'id_ed25519'), 'utf8')).toBe('PRIVATE KEY MATERIAL');
  });
});

async function settleWithin<T>(promise: Promise<T>, limitMilliseconds: number, failure: string): Promise<T> {
  const cancel = new AbortController();
  const expired = delay(limitMilliseconds, undefined, { signal: cancel.signal }).then(
    () => Promise.reject(new Error(`${failure} after ${limitMilliseconds} ms`)),
    // Cancelled because the promise settled first: nothing to report.
    () => new Promise<never>(() => undefined),
  );
  try {
    return await Promise.race([promise, expired]);
  } finally {
    cancel.abort();
  }
}

/** Polls until no process carries `marker` (the kernel may still be ending some), up to the limit. */
async function waitForNoProcessWithMarker(marker: string, limitMilliseconds: number): Promise<string[]> {
  const deadline = performance.now() + limitMilliseconds;
  for (;;) {
    const found = await findProcessesWithMarker(marker);
    if (found.length === 0 || performance.now() > deadline) return found;
    await delay(20);
  }
}
