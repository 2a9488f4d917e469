import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/**
 * The runs that ended, from the reports they wrote (.loki/artifacts/reports/<run id>.json). A
 * report is a few hundred kilobytes and the page reloads its figures all through a run: each file
 * is parsed once and again only when its size or modification time changes.
 */
export class PastRuns {
  readonly #root: string;
  readonly #parsed = new Map<string, { mtimeMs: number; size: number; run: PastRun | null }>();

  constructor(root: string) {
    this.#root = root;
  }

  list(): PastRun[] {
    const directory = workspacePaths(this.#root).reportsDirectory;
    if (!existsSync(directory)) return [];
    const names = readdirSync(directory)
      .filter((entry) => entry.endsWith('.json'))
      .sort();
    const runs: PastRun[] = [];
    for (const name of names) {
      const path = join(directory, name);
      const { mtimeMs, size } = statSync(path);
      let known = this.#parsed.get(name);
      if (known === undefined || known.mtimeMs !== mtimeMs || known.size !== size) {
        known = { mtimeMs, size, run: parsePastRun(readFileSync(path, 'utf8')) };
        this.#parsed.set(name, known);
      }
      if (known.run !== null) runs.push(known.run);
    }
    const present = new Set(names);
    for (const name of this.#parsed.keys()) if (!present.has(name)) this.#parsed.delete(name);
    return runs;
  }
}

export function listPastRuns(root: string): PastRun[] {
  return new PastRuns(root).list();
}

/**
 * The four fields the page shows, not the whole report (hundreds of kilobytes sent again with
 * every reload of the figures). A report that is not one is skipped (null): the list shows what it
 * can read, loki report says more.
 */
function parsePastRun(text: string): PastRun | null {
  const parsed = pastRunSchema.safeParse(parseJsonOrNull(text));
  if (!parsed.success) return null;
  const { runId, status, exitCode, summary } = parsed.data;
  return { runId, status, exitCode: exitCode ?? null, summary };
}

const pastRunSchema = z.looseObject({
  runId: z.string(),
  status: z.string(),
  exitCode: z.number().optional(),
  summary: z.string(),
});
