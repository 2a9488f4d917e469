import { createHash } from 'node:crypto';
import type { Store } from '../store/index.ts';

export interface SealedTest {
  path: string;
  sha256: string;
  content: string;
  /** The QA task that wrote (or last re-sealed) it. */
  sealedBy: string;
  /** The implementation task the test was written for, if any: its worktree receives the test. */
  forTaskId: string | null;
}

/**
 * The sealed acceptance tests of a workspace, by path: the latest `acceptance.sealed` record of each
 * path wins (a QA task that changes a sealed test re-seals it; one that deletes it unseals it).
 * The store is the seal because no agent can write it: agents write only inside their worktree
 * (the sandbox and the agent CLIs' permissions confine them there), and the store lives in `.loki/`
 * of the project root, outside every worktree.
 */
export async function readSealedTests(store: Pick<Store, 'listEvents'>): Promise<Map<string, SealedTest>> {
  const sealed = new Map<string, SealedTest>();
  for (const event of await store.listEvents({ types: ['acceptance.sealed'] })) {
    if (event.type !== 'acceptance.sealed') continue;
    for (const file of event.data.files) {
      if (file.content === null || file.sha256 === null) {
        sealed.delete(file.path);
        continue;
      }
      sealed.set(file.path, {
        path: file.path,
        sha256: file.sha256,
        content: file.content,
        sealedBy: event.taskId ?? '(unknown task)',
        forTaskId: event.data.forTaskId,
      });
    }
  }
  return sealed;
}

/**
 * Records the test files a QA task wrote (content null: it deleted the file), awaited so that the
 * seal is in the store before the task is recorded as done and anything that depends on it starts.
 */
export async function sealTests(
  store: Pick<Store, 'appendEvent'>,
  seal: {
    runId: string | null;
    qaTaskId: string;
    forTaskId: string | null;
    files: readonly { path: string; content: string | null }[];
  },
): Promise<void> {
  await store.appendEvent({
    type: 'acceptance.sealed',
    runId: seal.runId,
    taskId: seal.qaTaskId,
    data: {
      forTaskId: seal.forTaskId,
      files: seal.files.map((file) => ({
        path: file.path,
        sha256: file.content === null ? null : sha256(file.content),
        content: file.content,
      })),
    },
  });
}

export function sha256(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}
