import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loki, REPOSITORY_ROOT, TempWorkspace } from './support/cli-harness.ts';

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

interface CommandModules {
  /** Packages under node_modules, by name (`pg`, `@modelcontextprotocol/sdk`). */
  packages: string[];
  /** Loki's own modules (files under src/), relative to src/. */
  ownModules: string[];
  /** Node's built-in modules imported as ES modules (`node:http`). */
  builtinModules: string[];
  exitCode: number | null;
  stderr: string;
}

const scratchDirectories: string[] = [];
afterEach(() => {
  for (const directory of scratchDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/**
 * Every module one `loki` command loads, ES modules and CommonJS alike, seen by a loader hook in a
 * fresh Node process that runs the command as `bin/loki.js` does (main() with the arguments).
 */
function modulesLoadedByCommand(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): CommandModules {
  const scratch = mkdtempSync(join(tmpdir(), 'loki-modules-'));
  scratchDirectories.push(scratch);
  const listFile = join(scratch, 'loaded.json');
  const entry = pathToFileURL(join(REPOSITORY_ROOT, 'src', 'cli', 'main.ts')).href;
  const script = [
    "import { createRequire, registerHooks } from 'node:module';",
    "import { writeFileSync } from 'node:fs';",
    "import { pathToFileURL } from 'node:url';",
    'const loaded = new Set();',
    'registerHooks({ load: (url, context, nextLoad) => { loaded.add(url); return nextLoad(url, context); } });',
    `const { main } = await import(${JSON.stringify(entry)});`,
    `await main(${JSON.stringify(args)});`,
    'for (const file of Object.keys(createRequire(import.meta.url).cache)) loaded.add(pathToFileURL(file).href);',
    `writeFileSync(${JSON.stringify(listFile)}, JSON.stringify([...loaded]));`,
  ].join('\n');
  const child = spawnSync(process.execPath, ['--input-type=module', '--eval', script], {
    cwd,
    env,
    encoding: 'utf8',
  });
  const urls = JSON.parse(readFileSync(listFile, 'utf8')) as string[];
  const sourceRoot = `${pathToFileURL(join(REPOSITORY_ROOT, 'src')).href}/`;
  const packages = new Set<string>();
  for (const url of urls) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (match?.[1] !== undefined) packages.add(match[1]);
  }
  return {
    packages: [...packages],
    ownModules: urls.filter((url) => url.startsWith(sourceRoot)).map((url) => url.slice(sourceRoot.length)),
    builtinModules: urls.filter((url) => url.startsWith('node:')),
    exitCode: child.status,
    stderr: child.stderr,
  };
}

/** What no short command should load: the store's PostgreSQL driver, the agent SDKs, the servers. */
const HEAVY_PACKAGES =
  /^(pg|@modelcontextprotocol\/.*|@anthropic-ai\/.*|@openai\/.*|@ai-sdk\/.*|hono|@hono\/.*)$/;

describe('loading the CLI', () => {
  it('leaves the gates’ heavy tools (Chromium driver, load generator) to the gates that run them', () => {
    const loaded = packagesLoadedByTheCli();
    // Sanity: the probe sees the CJS packages the CLI does load.
    expect(loaded).toContain('commander');
    expect(loaded).not.toContain('playwright-core');
    expect(loaded).not.toContain('autocannon');
  }, 60_000);

  it('loki --help loads commander and the commands’ options, not what the commands do', () => {
    const help = modulesLoadedByCommand(['--help'], REPOSITORY_ROOT, process.env);
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.packages).toContain('commander');
    expect(help.packages.filter((name) => HEAVY_PACKAGES.test(name))).toEqual([]);
    // Every command's registration, and no app service: 51 modules when written (all of Loki's,
    // 488, before the commands imported their services lazily).
    expect(help.ownModules).toContain('cli/commands/deploy.ts');
    const services = help.ownModules.filter(
      (file) => file.startsWith('app/') && file !== 'app/parse-whole-number.ts',
    );
    expect(services).toEqual([]);
    expect(help.ownModules.length).toBeLessThan(120);
  }, 60_000);

  it('loki rollback loads the workspace, the store and the deploy target, not the pipeline', async () => {
    using workspace = new TempWorkspace('loki-modules-');
    const init = await loki(workspace, ['init']);
    expect(init.exitCode, init.stderr).toBe(0);
    const rollback = modulesLoadedByCommand(['rollback'], workspace.root, workspace.env);
    // It went the whole way to the release history (none here), through the store and the target.
    expect(rollback.stderr).toMatch(/No earlier healthy release of the local target/);
    expect(rollback.exitCode).toBe(2);
    expect(rollback.ownModules).toEqual(
      expect.arrayContaining([
        'app/deploy-product.ts',
        'store/sqlite/sqlite-store.ts',
        'deploy/local/local-target.ts',
      ]),
    );
    expect(rollback.packages.filter((name) => HEAVY_PACKAGES.test(name))).toEqual([]);
    // node:http's ES module reads all its exports, WebSocket's among them: that loads Node's undici.
    expect(rollback.builtinModules).not.toContain('node:http');
    // About 115 modules when written (488 before); the orchestrator, providers and gates stay out.
    const pipeline = rollback.ownModules.filter(
      (file) => /^(orchestrator|providers|gates|mcp)\//.test(file) && file !== 'orchestrator/run-lock.ts',
    );
    expect(pipeline).toEqual([]);
    expect(rollback.ownModules.length).toBeLessThan(200);
  }, 120_000);

  it('the built CLI’s lazy imports name files that exist (bin/loki.js runs dist/, not src/)', () => {
    const dist = join(REPOSITORY_ROOT, 'dist');
    const missing: string[] = [];
    let imports = 0;
    for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.js')) continue;
      const code = readFileSync(join(dist, file), 'utf8');
      for (const match of code.matchAll(/\bimport\((['"])(\.{1,2}\/[^'"]+)\1\)/g)) {
        imports += 1;
        const target = resolve(dirname(join(dist, file)), match[2] ?? '');
        if (!existsSync(target)) missing.push(`${file}: import('${match[2] ?? ''}')`);
      }
    }
    // Sanity: the commands' actions do import lazily.
    expect(imports).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});
