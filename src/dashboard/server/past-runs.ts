import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonOrNull } from '../../text/index.ts';
import { workspacePaths } from '../../workspace/index.ts';

export interface PastRun {
  runId: string;
  status: string;
  exitCode: number | null;
  summary: string;
}

/** The runs that ended, from the reports they wrote (.loki/artifacts/reports/<run id>.json). */
export function listPastRuns(root: string): PastRun[] {
  const directory = workspacePaths(root).reportsDirectory;
  if (!existsSync(directory)) return [];
  const runs: PastRun[] = [];
  for (const name of readdirSync(directory)
    .filter((entry) => entry.endsWith('.json'))
    .sort()) {
    const report = parseJsonOrNull(readFileSync(join(directory, name), 'utf8'));
    const parsed = pastRunSchema.safeParse(report);
    // A report that is not one is skipped: the list shows what it can read, loki report says more.
    if (parsed.success) runs.push({ ...parsed.data, exitCode: parsed.data.exitCode ?? null });
  }
  return runs;
}

const pastRunSchema = z.looseObject({
  runId: z.string(),
  status: z.string(),
  exitCode: z.number().optional(),
  summary: z.string(),
});
