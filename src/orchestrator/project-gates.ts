import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LokiError } from '../errors/index.ts';
import { ARCHITECTURE_JSON_FILE } from '../planning/index.ts';

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
