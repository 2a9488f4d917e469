/**
 * A distributed run as a team would set it up, on one machine: a real PostgreSQL server, a bare git
 * repository standing in for the shared remote, a coordinator (`loki run --store --repo`) in its own
 * clone and `loki worker` processes each in a directory of their own. Every process is the real
 * `loki` executable, so kill -9 is a real crash.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSession, type SessionSpec } from '../../src/bench/generated-session.ts';
import { TEST_PRD, git } from './run-harness.ts';

export interface DistributedFixture {
  /** The bare repository every process clones and pushes to. */
  remote: string;
  /** The scripted session every process reads (absolute: workers run in other directories). */
  sessionPath: string;
}

/** A bare remote holding one first commit, and the scripted session of `spec` beside it. */
export function prepareDistributedRun(root: string, spec: SessionSpec): DistributedFixture {
  const remote = join(root, 'remote.git');
  git(root, ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  // The team's repository already exists: one commit on main, as a project starts.
  const seed = join(root, 'seed');
  git(root, ['clone', '--quiet', remote, seed]);
  writeFileSync(join(seed, 'README.md'), '# Files product\n');
  git(seed, ['add', 'README.md']);
  git(seed, [
    '-c',
    'user.name=Loki Test',
    '-c',
    'user.email=loki@example.invalid',
    'commit',
    '--quiet',
    '-m',
    'Start the project',
  ]);
  git(seed, ['push', '--quiet', 'origin', 'HEAD:main']);
  const sessionPath = join(root, 'session.json');
  writeFileSync(sessionPath, JSON.stringify(buildSession(spec), null, 2));
  return { remote, sessionPath };
}

/** A fresh clone of the remote for a coordinator, with the PRD in it; returns its directory. */
export function coordinatorClone(root: string, fixture: DistributedFixture, name: string): string {
  const directory = join(root, name);
  git(root, ['clone', '--quiet', fixture.remote, directory]);
  writeFileSync(join(directory, 'prd.md'), TEST_PRD);
  return directory;
}

/** An empty directory for a worker's own clone (`loki worker --dir`). */
export function workerDirectory(root: string, name: string): string {
  const directory = join(root, 'machines', name);
  mkdirSync(join(root, 'machines'), { recursive: true });
  return directory;
}

/** Task ids of the checkpoints on the remote's main, oldest first, duplicates kept. */
export function remoteMergedTaskIds(remote: string): string[] {
  return git(remote, ['log', '--reverse', 'main', '--format=%(trailers:key=Loki-Task,valueonly)'])
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** `owner:w3` → `owner`: the worker process a task worker id belongs to (scheduler ids are `<prefix>:w<n>`). */
export function processOf(workerId: string): string {
  const colon = workerId.lastIndexOf(':');
  return colon === -1 ? workerId : workerId.slice(0, colon);
}
