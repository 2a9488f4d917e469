import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from './support/cli-harness.ts';

/**
 * The packages that loading the CLI brings in, read in a fresh Node process: every `loki` command
 * (a `loki rollback` that must switch in under a second among them) pays for them at start-up.
 */
function packagesLoadedByTheCli(): string[] {
  const entry = join(REPOSITORY_ROOT, 'src', 'cli', 'main.ts');
  const script = [
    "import { createRequire } from 'node:module';",
    `await import(${JSON.stringify(entry)});`,
    'const loaded = new Set();',
    'for (const file of Object.keys(createRequire(import.meta.url).cache)) {',
    '  const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file);',
    '  if (match) loaded.add(match[1]);',
    '}',
    'process.stdout.write(JSON.stringify([...loaded]));',
  ].join('\n');
  const child = spawnSync(process.execPath, ['--input-type=module', '--eval', script], {
    cwd: REPOSITORY_ROOT,
    encoding: 'utf8',
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout) as string[];
}

describe('loading the CLI', () => {
  it('leaves the gates’ heavy tools (Chromium driver, load generator) to the gates that run them', () => {
    const loaded = packagesLoadedByTheCli();
    // Sanity: the probe sees the CJS packages the CLI does load.
    expect(loaded).toContain('commander');
    expect(loaded).not.toContain('playwright-core');
    expect(loaded).not.toContain('autocannon');
  }, 60_000);
});
