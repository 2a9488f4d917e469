import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from '../errors/index.ts';

export interface DemoWorkspace {
  /** Where the demo product is built: the run's workspace. */
  directory: string;
  /** The PRD, relative to `directory`. */
  prdPath: string;
  /** The scripted session every agent of the demo replays. */
  scriptPath: string;
}

/** The directory of the bundled examples, next to src/ and dist/ in the package. */
function examplesDirectory(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
}

/**
 * `loki demo`: a workspace for the bundled example PRD, in `directory` (new or empty) or in a new
 * temporary directory, with the scripted session that plays every agent offline.
 */
export function prepareDemo(options: { cwd: string; directory?: string }): DemoWorkspace {
  const example = join(examplesDirectory(), 'todo-api');
  let directory: string;
  if (options.directory === undefined) {
    directory = mkdtempSync(join(tmpdir(), 'loki-demo-'));
  } else {
    directory = resolve(options.cwd, options.directory);
    if (existsSync(directory) && readdirSync(directory).length > 0) {
      throw usageError(
        'DEMO_DIRECTORY_NOT_EMPTY',
        `${directory} is not empty; give loki demo --dir a new or empty directory`,
      );
    }
    mkdirSync(directory, { recursive: true });
  }
  cpSync(join(example, 'prd.md'), join(directory, 'prd.md'));
  return { directory, prdPath: 'prd.md', scriptPath: join(example, 'session.json') };
}
