import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonOrNull } from '../text/index.ts';

const npmScriptsSchema = z.looseObject({ scripts: z.record(z.string(), z.unknown()).optional() });

/**
 * What `npm test` runs in `directory`: the package's `scripts.test`, when nothing runs around it
 * (no pretest/posttest); null otherwise. Lets a test run already made under the script's own text
 * (the plan's verify command, usually) stand for `npm test`, so the tests do not run twice.
 */
export function npmTestScript(directory: string): string | null {
  const path = join(directory, 'package.json');
  if (!existsSync(path)) return null;
  const parsed = npmScriptsSchema.safeParse(parseJsonOrNull(readFileSync(path, 'utf8')));
  const scripts = parsed.success ? (parsed.data.scripts ?? {}) : {};
  if (typeof scripts.test !== 'string' || scripts.pretest !== undefined || scripts.posttest !== undefined)
    return null;
  return scripts.test;
}
