import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Clock } from '../clock/index.ts';
import { usageError } from '../errors/index.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { initGitRepository, isInsideGitWorkTree } from './git-repository.ts';
import { openWorkspaceStore } from './open-workspace.ts';
import { readPrd } from './read-prd.ts';
import type { StatusReportOptions } from './status-report.ts';
import { assertStoreNotLost } from './store-history.ts';
import { WORKSPACE_DIRECTORIES, workspacePaths } from './workspace-paths.ts';
import {
  ALERTING_TEMPLATE,
  CIRCUIT_BREAKERS_TEMPLATE,
  continuityTemplate,
  LOKI_GITIGNORE,
} from './workspace-templates.ts';
import { writeProjections } from './write-projections.ts';

export interface InitWorkspaceOptions extends StatusReportOptions {
  root: string;
  /** A PRD to copy into `.loki/specs/prd.md`, relative to `cwd`. */
  prdPath?: string;
  cwd?: string;
  clock: Clock;
}

export interface InitWorkspaceResult {
  root: string;
  /** Paths (relative to root) this call created; empty when the workspace was complete already. */
  created: string[];
  gitInitialized: boolean;
  prdCopied: boolean;
}

/**
 * Creates the `.loki/` workspace. Idempotent: a second call creates nothing and changes nothing;
 * existing files are never overwritten, and the user's PRD is only read.
 */
export async function initWorkspace(options: InitWorkspaceOptions): Promise<InitWorkspaceResult> {
  const paths = workspacePaths(options.root);
  // Every check that can refuse comes before the first write, so a refusal leaves no trace.
  const prd = options.prdPath === undefined ? null : readPrd(options.prdPath, options.cwd ?? options.root);
  assertStoreNotLost(paths);
  if (prd !== null && existsSync(paths.prdCopy) && !readFileSync(paths.prdCopy).equals(prd.bytes)) {
    throw usageError(
      'WORKSPACE_PRD_CONFLICT',
      `this workspace already has a different PRD in .loki/specs/prd.md; nothing was changed. Delete that copy to use ${options.prdPath} instead`,
    );
  }
  const created: string[] = [];
  const record = (path: string) => created.push(relative(options.root, path) || '.');

  const gitInitialized = !isInsideGitWorkTree(options.root);
  if (gitInitialized) {
    initGitRepository(options.root);
    record(join(options.root, '.git'));
  }

  if (!existsSync(paths.lokiDirectory)) record(paths.lokiDirectory);
  for (const directory of WORKSPACE_DIRECTORIES) {
    const path = join(paths.lokiDirectory, directory);
    if (!existsSync(path)) {
      mkdirSync(path, { recursive: true });
      record(path);
    }
  }

  const files: Array<[string, string]> = [
    [paths.gitignoreFile, LOKI_GITIGNORE],
    [paths.continuityFile, continuityTemplate()],
    [paths.circuitBreakersFile, CIRCUIT_BREAKERS_TEMPLATE],
    [paths.alertingFile, ALERTING_TEMPLATE],
  ];
  for (const [path, content] of files) {
    if (writeIfMissing(path, content)) record(path);
  }

  let prdCopied = false;
  if (prd !== null && !existsSync(paths.prdCopy)) {
    // The copy is never readable by more people than the user's PRD (which may be private),
    // and its owner can always read it back.
    writeFileAtomic(paths.prdCopy, prd.bytes, { mode: (prd.mode & 0o666) | 0o400 });
    record(paths.prdCopy);
    prdCopied = true;
  }

  // An empty file is a new store too (assertStoreNotLost made sure that no history was lost with it).
  const isNewDatabase = !existsSync(paths.database) || statSync(paths.database).size === 0;
  const store = await openWorkspaceStore(paths, options.clock);
  try {
    if (isNewDatabase) {
      record(paths.database);
      await store.appendEvent({
        type: 'workspace.initialized',
        runId: null,
        taskId: null,
        data: { root: options.root, hasPrd: prd !== null },
      });
    }
    const statusExisted = existsSync(paths.statusFile);
    await writeProjections(
      store,
      paths,
      options.isRunAlive === undefined ? {} : { isRunAlive: options.isRunAlive },
    );
    if (!statusExisted) record(paths.statusFile);
  } finally {
    await store.close();
  }
  return { root: options.root, created, gitInitialized, prdCopied };
}

/** Writes `content` only if `path` does not exist; true when it wrote. Never clobbers. */
function writeIfMissing(path: string, content: string): boolean {
  try {
    writeFileSync(path, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST') return false;
    throw error;
  }
}
