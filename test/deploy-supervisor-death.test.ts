/**
 * The apps of the local target die with their supervisor, also where bubblewrap (whose
 * --die-with-parent does it for sandboxed apps) is not used: a supervisor killed with SIGKILL
 * leaves no release's process behind.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findExecutable } from '../src/sandbox/index.ts';
import { loki, lokiProcess, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import {
  commitVersion,
  fetchText,
  pollUntil,
  supervisorStatus,
  writeDeployableProduct,
} from './support/deploy-fixture.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/**
 * PATH with node, git and tar but no bwrap: Loki finds no sandbox, so the supervisor runs its apps
 * as plain processes (the case under test).
 */
function pathWithoutBubblewrap(): string {
  const directory = mkdtempSync(join(tmpdir(), 'loki-no-bwrap-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  for (const tool of ['git', 'tar']) {
    const found = findExecutable(tool, process.env.PATH);
    if (found === undefined) throw new Error(`${tool} is not on PATH`);
    symlinkSync(found, join(directory, tool));
  }
  return [dirname(process.execPath), directory].join(':');
}

/** The pids of the processes whose process group is `groupId`, from /proc. */
function processGroupMembers(groupId: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      // The process ended between the listing and the read: not a member any more.
      continue;
    }
    // Fields after the command name (which may hold spaces, so cut at its closing parenthesis):
    // state, ppid, pgrp.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === groupId) members.push(Number(entry));
  }
  return members;
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    // Gone already.
    return '';
  }
}

/** The v1 app's process group and its server's pid: plain processes (no sandbox). */
async function serverOf(workspace: TempWorkspace): Promise<{ groupId: number; serverPid: number }> {
  const app = (await supervisorStatus(workspace))?.apps.find((candidate) => candidate.version === 'v1');
  const groupId = app?.pid ?? 0;
  expect(groupId).toBeGreaterThan(0);
  const members = processGroupMembers(groupId);
  expect(members.map(commandLineOf).join('\n')).not.toMatch(/bwrap/);
  const serverPid = members.find((pid) => commandLineOf(pid).startsWith('node server.js')) ?? 0;
  expect(serverPid, members.map(commandLineOf).join('\n')).toBeGreaterThan(0);
  return { groupId, serverPid };
}

describe('the local target without bubblewrap', () => {
  it.skipIf(process.platform !== 'linux')(
    'restarts a crashed app, and leaves no app process behind when the supervisor is killed with SIGKILL',
    async () => {
      const workspace = new TempWorkspace('loki-deploy-orphans-');
      const env = { PATH: pathWithoutBubblewrap() };
      cleanups.push(() => {
        lokiProcess(workspace, ['deploy', 'stop'], env);
        workspace[Symbol.dispose]();
      });
      const init = await loki(workspace, ['init'], { env });
      expect(init.exitCode, init.stderr).toBe(0);
      writeDeployableProduct(workspace);
      commitVersion(workspace, '1');
      const deployed = lokiProcess(workspace, ['deploy', '--json'], env);
      expect(deployed.exitCode, deployed.stderr).toBe(0);
      const url = parseJsonOutput<{ url: string | null }>(deployed).url ?? '';
      expect(await fetchText(url)).toBe('version 1');

      // The server crashing on its own is still seen, and restarted.
      const first = await serverOf(workspace);
      process.kill(first.serverPid, 'SIGKILL');
      await pollUntil(
        'the crashed server restarted',
        async () => (await supervisorStatus(workspace))?.apps.find((candidate) => candidate.version === 'v1'),
        (state) =>
          state !== undefined && state.restarts >= 1 && state.pid !== null && state.pid !== first.groupId,
      );
      await pollUntil(
        'the restarted server answers',
        () => fetchText(url),
        (body) => body === 'version 1',
      );

      const supervisor = await supervisorStatus(workspace);
      const { groupId } = await serverOf(workspace);

      process.kill(supervisor?.pid ?? 0, 'SIGKILL');
      await pollUntil(
        'the app processes of the killed supervisor ended',
        () => Promise.resolve(processGroupMembers(groupId).map(commandLineOf)),
        (left) => left.length === 0,
      );
      expect(await fetchText(url)).toBeNull();
    },
    180_000,
  );
});
