import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LokiError } from '../errors/index.ts';
import { ARCHITECTURE_JSON_FILE } from '../planning/index.ts';
import type { Store } from '../store/index.ts';

/** Only the part of the architecture that says how the project is verified; the rest is not needed here. */
const projectGatesSchema = z.object({
  verifyCommands: z.array(z.string().trim().min(1)).min(1),
});

/**
 * The project's gates (the architecture's `verifyCommands`) from `.loki/specs/architecture.json`,
 * for work outside a run (`loki task run`); empty when the workspace has no architecture yet. A file
 * that is there but unreadable is an error: silently verifying with nothing would pass anything.
 */
export function readProjectGates(specsDirectory: string): string[] {
  const path = join(specsDirectory, ARCHITECTURE_JSON_FILE);
  if (!existsSync(path)) return [];
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw specsInvalid(path, error instanceof Error ? error.message : String(error));
  }
  const parsed = projectGatesSchema.safeParse(document);
  if (!parsed.success) {
    throw specsInvalid(path, `verifyCommands: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data.verifyCommands;
}

function specsInvalid(path: string, problem: string): LokiError {
  return new LokiError(
    `${path} cannot be read for the project's gates (${problem}); fix it or remove it (loki run writes it again)`,
    { code: 'SPECS_ARCHITECTURE_INVALID', category: 'user', context: { path } },
  );
}

/**
 * Records the run's project gates in the store (`run.gates_recorded`), written by the run's own
 * process from the architecture it validated. Workers on other machines read them from here, never
 * from their clone, which an agent can write: what an agent writes must not decide what Loki runs.
 */
export async function recordProjectGates(
  store: Store,
  runId: string,
  verifyCommands: readonly string[],
): Promise<void> {
  await store.appendEvent({
    type: 'run.gates_recorded',
    runId,
    taskId: null,
    data: { verifyCommands: [...verifyCommands] },
  });
}

/**
 * The project's gates the run recorded last (recordProjectGates); empty while the run has none (no
 * architecture yet): a task is then verified with its own verify commands only. Read when a task is
 * claimed, not once, so a worker that joined before the Architecture phase sees them once they exist.
 */
export async function readRecordedProjectGates(store: Store, runId: string): Promise<readonly string[]> {
  const recorded = await store.listEvents({ runId, types: ['run.gates_recorded'] });
  const latest = recorded.at(-1);
  return latest?.type === 'run.gates_recorded' ? latest.data.verifyCommands : [];
}
