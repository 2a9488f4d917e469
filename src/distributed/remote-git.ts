import { resolve } from 'node:path';
import { LokiError } from '../errors/index.ts';
import { runGit } from '../git/index.ts';
import { remoteUnavailable } from './remote-failure.ts';

/**
 * Git against the shared remote of a distributed run. The remote is always named by its URL, never
 * by a remote name: a clone may call it anything, and nothing here depends on the clone's config.
 * Fetched refs land under `refs/loki/remote/` (private: no branch, no checkout, never pushed).
 */
export const REMOTE_REFS = 'refs/loki/remote';

/** The remote's refs among `refs` (full names) with their commits; absent ones are left out. */
export async function listRemoteRefs(
  root: string,
  url: string,
  refs: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const result = await runGit(root, ['ls-remote', '--', url, ...refs], {
    allowFailure: true,
    ...(signal === undefined ? {} : { signal }),
  });
  if (result.exitCode !== 0) throw remoteUnavailable(url, 'ls-remote', result.stderr);
  const found = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const [commit, ref] = line.split('\t');
    if (commit !== undefined && ref !== undefined && refs.includes(ref)) found.set(ref, commit);
  }
  return found;
}

/** Fetches each remote ref into `<REMOTE_REFS>/<its name without refs/heads/>`; returns where each went. */
export async function fetchRemoteRefs(
  root: string,
  url: string,
  refs: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const targets = new Map(refs.map((ref) => [ref, `${REMOTE_REFS}/${ref.replace(/^refs\/heads\//, '')}`]));
  if (refs.length === 0) return targets;
  const refspecs = refs.map((ref) => `+${ref}:${targets.get(ref) ?? ''}`);
  // Fetches into one clone may run at once (a coordinator's, its own task workers'): none writes
  // the clone's one FETCH_HEAD, which nothing here reads.
  const result = await runGit(
    root,
    ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--', url, ...refspecs],
    {
      allowFailure: true,
      ...(signal === undefined ? {} : { signal }),
    },
  );
  if (result.exitCode !== 0) throw remoteUnavailable(url, 'fetch', result.stderr);
  return targets;
}

export type PushResult = { outcome: 'pushed' } | { outcome: 'rejected'; details: string };

/**
 * Pushes local `source` to the remote's `target`. Plain pushes (main) are refused by the remote when
 * it moved meanwhile: that is `rejected`, for the caller to fetch and redo. `force` is for a task
 * branch, which only its holder writes and a re-attempt may rewrite.
 */
export async function pushRef(
  root: string,
  url: string,
  source: string,
  target: string,
  options: { force?: boolean; signal?: AbortSignal } = {},
): Promise<PushResult> {
  const refspec = `${options.force === true ? '+' : ''}${source}:${target}`;
  const result = await runGit(root, ['push', '--quiet', '--no-verify', '--porcelain', '--', url, refspec], {
    allowFailure: true,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (result.exitCode === 0) return { outcome: 'pushed' };
  // --porcelain marks a ref the remote refused (not a fast-forward, fetch first) with "!".
  if (/^!\t/m.test(result.stdout)) {
    return { outcome: 'rejected', details: `${result.stdout}${result.stderr}`.trim() };
  }
  throw remoteUnavailable(url, 'push', `${result.stdout}\n${result.stderr}`);
}

/** The commit `ref` names locally, or null when there is none. */
export async function localCommit(root: string, ref: string, signal?: AbortSignal): Promise<string | null> {
  const result = await runGit(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
    allowFailure: true,
    ...(signal === undefined ? {} : { signal }),
  });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

/**
 * Whether `commit` is in the clone with everything it needs: some ref of the clone holds it. A commit
 * object alone proves nothing: a clone made from a path on this machine (`git clone /srv/app.git`)
 * copies the remote's object files one by one, and one copied while a push was being received can
 * hold a commit whose tree had not been written yet. Refs only ever name objects that are complete,
 * so a commit no ref holds is fetched again (git's own fetch then sends what is missing).
 */
export async function hasReachableCommit(
  root: string,
  commit: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const result = await runGit(
    root,
    ['for-each-ref', '--count=1', '--contains', commit, '--format=%(refname)'],
    { allowFailure: true, ...(signal === undefined ? {} : { signal }) },
  );
  // Exit 129: no such object at all.
  return result.exitCode === 0 && result.stdout.trim() !== '';
}

/** Whether `ancestor` is `descendant` or one of its ancestors. */
export async function isAncestor(
  root: string,
  ancestor: string,
  descendant: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const result = await runGit(root, ['merge-base', '--is-ancestor', ancestor, descendant], {
    allowFailure: true,
    ...(signal === undefined ? {} : { signal }),
  });
  if (result.exitCode === 0) return true;
  if (result.exitCode === 1) return false;
  throw new LokiError(`git merge-base failed in ${root}: ${result.stderr.trim()}`, {
    code: 'GIT_COMMAND_FAILED',
    category: 'internal',
  });
}

/** Moves local `ref` to `commit`, guarded by the value it had (`expected`; null: it must not exist). */
export async function moveRef(
  root: string,
  ref: string,
  commit: string,
  expected: string | null,
  signal?: AbortSignal,
): Promise<void> {
  await runGit(root, ['update-ref', ref, commit, expected ?? ''], signal === undefined ? {} : { signal });
}

/**
 * Whether the repository at `root` has `url` as one of its remotes (fetch URL). Local paths are
 * compared resolved, so `../remote.git` and its absolute path are the same remote.
 */
export async function hasRemote(root: string, url: string): Promise<boolean> {
  const result = await runGit(root, ['config', '--get-regexp', '^remote\\..*\\.url$'], {
    allowFailure: true,
  });
  if (result.exitCode !== 0) return false;
  const wanted = normaliseUrl(url, root);
  return result.stdout
    .split('\n')
    .map((line) => line.split(' ').slice(1).join(' '))
    .some((configured) => configured !== '' && normaliseUrl(configured, root) === wanted);
}

function normaliseUrl(url: string, root: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !trimmed.startsWith('file://')) return trimmed;
  const path = trimmed.replace(/^file:\/\//, '');
  // scp-like syntax (host:path) stays as written; anything else is a local path.
  if (/^[^/]+:/.test(path)) return path;
  return resolve(root, path);
}
