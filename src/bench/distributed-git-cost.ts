import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchRemoteRefs, listRemoteRefs, pushRef } from '../distributed/remote-git.ts';
import { git } from '../../test/support/run-harness.ts';
import { median, roundTo } from './timing.ts';

/** The remote git steps a distributed task adds to a local one, each alone, median milliseconds. */
export interface RemoteGitCost {
  /** A worker's look at main and the task branch on the remote before each claim (ls-remote). */
  lsRemote: number;
  /** Fetching a moved main (or a task branch) into the clone. */
  fetch: number;
  /** A worker's push of loki/<task-id> (one new commit). */
  pushTaskBranch: number;
  /** The coordinator's push of main (one new checkpoint). */
  pushMain: number;
  samples: number;
}

/**
 * Times the remote-git functions the worker and the coordinator use, on a bare remote and a clone
 * of it in `directory`, with whatever else runs on the machine: what each costs a task on its own.
 */
export async function measureRemoteGitCost(directory: string, samples = 5): Promise<RemoteGitCost> {
  const remote = join(directory, 'remote.git');
  const clone = join(directory, 'clone');
  const other = join(directory, 'other');
  mkdirSync(directory, { recursive: true });
  git(directory, ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  git(directory, ['clone', '--quiet', remote, clone]);
  commitFile(clone, 'README.md', 'start');
  git(clone, ['push', '--quiet', 'origin', 'HEAD:main']);
  git(directory, ['clone', '--quiet', remote, other]);
  const times = {
    lsRemote: [] as number[],
    fetch: [] as number[],
    pushTaskBranch: [] as number[],
    pushMain: [] as number[],
  };
  const mainRef = 'refs/heads/main';
  for (let sample = 0; sample < samples; sample += 1) {
    times.lsRemote.push(await timed(() => listRemoteRefs(clone, remote, [mainRef, 'refs/heads/loki/none'])));
    commitFile(clone, `main-${sample}.txt`, `main ${sample}`);
    times.pushMain.push(await timed(() => pushRef(clone, remote, mainRef, mainRef)));
    times.fetch.push(await timed(() => fetchRemoteRefs(other, remote, [mainRef])));
    const branch = `refs/heads/loki/t${sample}`;
    git(other, ['checkout', '--quiet', '-b', `loki/t${sample}`, 'refs/loki/remote/main']);
    commitFile(other, `task-${sample}.txt`, `task ${sample}`);
    times.pushTaskBranch.push(await timed(() => pushRef(other, remote, branch, branch, { force: true })));
  }
  const of = (values: number[]) => roundTo(median(values), 0);
  return {
    lsRemote: of(times.lsRemote),
    fetch: of(times.fetch),
    pushTaskBranch: of(times.pushTaskBranch),
    pushMain: of(times.pushMain),
    samples,
  };
}

async function timed(body: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await body();
  return performance.now() - start;
}

function commitFile(root: string, name: string, content: string): void {
  writeFileSync(join(root, name), `${content}\n`);
  git(root, ['add', name]);
  git(root, [
    '-c',
    'user.name=Loki Bench',
    '-c',
    'user.email=loki@example.invalid',
    'commit',
    '--quiet',
    '-m',
    `add ${name}`,
  ]);
}
