import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { buildBubblewrapArguments } from '../../src/sandbox/bubblewrap-runner.ts';
import { listLiveProcesses, type ProcessIdentity } from '../../src/sandbox/process-tree.ts';

const WAIT_LIMIT_MILLISECONDS = 20_000;

/**
 * What bubblewrap leaves when it dies between cloning the sandbox's init and letting that init go
 * on, crafted on purpose instead of hoping a kill lands in that window (well under a millisecond
 * wide). That is what happens when Loki is killed there: bubblewrap has armed its --die-with-parent,
 * so it gets SIGKILL, while the init's own death signal is not armed yet.
 *
 * Bubblewrap is started as the BubblewrapRunner starts it (its own arguments, a process group of its
 * own, `--info-fd 3`), except that fd 3 is a FIFO already filled to capacity: bubblewrap clones the
 * init and blocks writing the init's pid there, and the init blocks until bubblewrap lets it go on.
 * Then bubblewrap gets the SIGKILL its death signal would send, and the init waits for ever.
 *
 * `scratch` holds the FIFO; `worktree` is where the command would have run. Returns the stranded init.
 */
export async function strandSandbox(options: {
  bubblewrapPath: string;
  worktree: string;
  scratch: string;
}): Promise<ProcessIdentity> {
  const fifo = join(options.scratch, `info-${process.pid}-${Date.now()}.fifo`);
  execFileSync('mkfifo', [fifo]);
  // Filled through a non-blocking descriptor (the pipe's capacity varies); bubblewrap gets a blocking one.
  const fillDescriptor = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const infoDescriptor = openSync(fifo, constants.O_RDWR);
  try {
    fillToCapacity(fillDescriptor);
    const request = {
      command: 'echo the command ran > ran.txt',
      cwd: options.worktree,
      writableDirectory: options.worktree,
      timeoutMilliseconds: 60_000,
      env: { PATH: '/usr/bin:/bin' },
      allowNetwork: false,
      maxOutputBytes: 1_000,
    };
    const bubblewrap = spawn(options.bubblewrapPath, buildBubblewrapArguments(request, []), {
      cwd: options.worktree,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', infoDescriptor],
    });
    const bubblewrapPid = bubblewrap.pid;
    if (bubblewrapPid === undefined) throw new Error('bwrap did not start');
    const exited = once(bubblewrap, 'exit');
    const init = await waitFor('bubblewrap to clone the sandbox init', async () =>
      (await listLiveProcesses()).find((identity) => identity.parentPid === bubblewrapPid),
    );
    process.kill(bubblewrapPid, 'SIGKILL');
    await exited;
    return init;
  } finally {
    closeSync(fillDescriptor);
    closeSync(infoDescriptor);
  }
}

function fillToCapacity(descriptor: number): void {
  const chunk = Buffer.alloc(4096);
  for (;;) {
    try {
      writeSync(descriptor, chunk);
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'EAGAIN') return;
      throw error;
    }
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MILLISECONDS;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}
