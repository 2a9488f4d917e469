import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CONTINUITY_SECTIONS, WORKSPACE_DIRECTORIES } from '../src/workspace/index.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';

/** Every path under root (outside .git internals) with a content hash for files. */
function snapshotTree(root: string): Record<string, string> {
  const tree: Record<string, string> = {};
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      const key = relative(root, path);
      if (entry.isDirectory()) {
        tree[`${key}/`] = 'dir';
        if (key !== '.git') walk(path);
      } else if (/loki\.db(-wal|-shm)?$/.test(entry.name)) {
        // SQLite owns the database bytes; its content is checked through the store instead.
        tree[key] = 'database';
      } else {
        tree[key] = createHash('sha256').update(readFileSync(path)).digest('hex');
      }
    }
  };
  walk(root);
  return tree;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const PRD = '# Todo app\n\nUsers can add, complete and delete todos. — ünïcödé\n';

describe('loki init', () => {
  it('creates the seed layout, a git repository and a copy of the PRD', async () => {
    using workspace = new TempWorkspace();
    writeFileSync(join(workspace.root, 'prd.md'), PRD);
    const result = await loki(workspace, ['init', 'prd.md']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Initialized Loki workspace');

    for (const directory of WORKSPACE_DIRECTORIES) {
      expect(statSync(join(workspace.root, '.loki', directory)).isDirectory(), directory).toBe(true);
    }
    expect(readFileSync(join(workspace.root, '.loki/specs/prd.md'), 'utf8')).toBe(PRD);

    const continuity = readFileSync(join(workspace.root, '.loki/CONTINUITY.md'), 'utf8');
    const headings = [...continuity.matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    expect(headings).toEqual([...CONTINUITY_SECTIONS]);

    const breakers = parseYaml(
      readFileSync(join(workspace.root, '.loki/config/circuit-breakers.yaml'), 'utf8'),
    );
    expect(breakers.defaults).toEqual({ failureThreshold: 5, cooldownSeconds: 300, halfOpenRequests: 3 });
    expect(Object.keys(breakers.overrides).length).toBeGreaterThan(0);
    const alerting = readFileSync(join(workspace.root, '.loki/config/alerting.yaml'), 'utf8');
    expect(parseYaml(alerting)).toBeNull();
    expect(alerting).toContain('# slack:');

    expect(readFileSync(join(workspace.root, '.loki/STATUS.txt'), 'utf8')).toContain('Pending:      0');
    expect(git(workspace.root, 'rev-parse', '--is-inside-work-tree').trim()).toBe('true');
    // Runtime files are ignored; the PRD copy and config are not.
    expect(
      git(workspace.root, 'check-ignore', '.loki/loki.db', '.loki/logs/run.log', '.loki/STATUS.txt')
        .trim()
        .split('\n'),
    ).toHaveLength(3);
    const tracked = git(workspace.root, 'status', '--porcelain', '--untracked-files=all');
    expect(tracked).toContain('.loki/specs/prd.md');
    expect(tracked).toContain('.loki/config/circuit-breakers.yaml');
    expect(tracked).not.toContain('loki.db');
  });

  it('is idempotent: a second run changes nothing and the PRD bytes stay the same', async () => {
    using workspace = new TempWorkspace();
    const prdPath = join(workspace.root, 'prd.md');
    writeFileSync(prdPath, PRD);
    const prdBefore = readFileSync(prdPath);
    const prdModifiedBefore = statSync(prdPath).mtimeMs;

    expect((await loki(workspace, ['init', 'prd.md'])).exitCode).toBe(0);
    const treeAfterFirst = snapshotTree(workspace.root);
    const second = await loki(workspace, ['init', 'prd.md', '--json']);
    expect(second.exitCode).toBe(0);
    expect(parseJsonOutput(second)).toMatchObject({ created: [], gitInitialized: false, prdCopied: false });
    expect(snapshotTree(workspace.root)).toEqual(treeAfterFirst);
    expect((await loki(workspace, ['init'])).stdout).toContain('nothing changed');
    expect(snapshotTree(workspace.root)).toEqual(treeAfterFirst);

    expect(readFileSync(prdPath).equals(prdBefore)).toBe(true);
    expect(statSync(prdPath).mtimeMs).toBe(prdModifiedBefore);
  });

  it('never clobbers existing state', async () => {
    using workspace = new TempWorkspace();
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    await loki(workspace, ['queue', 'add', 'keep me', '--type', 'eng-backend', '--id', 'keep']);
    const continuityPath = join(workspace.root, '.loki/CONTINUITY.md');
    writeFileSync(continuityPath, '# my notes\n');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    expect(readFileSync(continuityPath, 'utf8')).toBe('# my notes\n');
    const listed = parseJsonOutput<{ tasks: Array<{ id: string }> }>(
      await loki(workspace, ['queue', 'list', '--json']),
    );
    expect(listed.tasks.map((task) => task.id)).toEqual(['keep']);
  });

  it('uses an existing git repository instead of creating one', async () => {
    using workspace = new TempWorkspace();
    git(workspace.root, 'init', '--quiet');
    mkdirSync(join(workspace.root, 'service'));
    const result = parseJsonOutput(
      await loki(workspace, ['init', '--json'], { cwd: join(workspace.root, 'service') }),
    );
    expect(result.gitInitialized).toBe(false);
    expect(existsSync(join(workspace.root, 'service/.git'))).toBe(false);
    expect(existsSync(join(workspace.root, 'service/.loki/loki.db'))).toBe(true);
  });

  it('refuses a different PRD for an existing workspace without touching it', async () => {
    using workspace = new TempWorkspace();
    writeFileSync(join(workspace.root, 'a.md'), PRD);
    writeFileSync(join(workspace.root, 'b.md'), '# Another product\n');
    await loki(workspace, ['init', 'a.md']);
    const tree = snapshotTree(workspace.root);
    const result = await loki(workspace, ['init', 'b.md']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^loki: this workspace already has a different PRD/);
    expect(snapshotTree(workspace.root)).toEqual(tree);
  });

  describe('rejects a bad PRD with exit 2, one clear line, and writes nothing', () => {
    const cases: Array<{ name: string; setup: (root: string) => string; message: RegExp }> = [
      { name: 'missing path', setup: () => 'nope.md', message: /does not exist/ },
      {
        name: 'a directory',
        setup: (root) => {
          mkdirSync(join(root, 'docs'));
          return 'docs';
        },
        message: /is a directory/,
      },
      { name: 'empty', setup: (root) => write(root, 'empty.md', ''), message: /is empty/ },
      { name: 'only whitespace', setup: (root) => write(root, 'blank.md', ' \n\t\n'), message: /is empty/ },
      {
        name: 'binary',
        setup: (root) => write(root, 'logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2])),
        message: /binary/,
      },
      {
        name: 'over 5 MB',
        setup: (root) => write(root, 'huge.md', Buffer.alloc(5 * 1024 * 1024 + 1, 'a')),
        message: /limit is 5 MB/,
      },
      {
        name: 'invalid UTF-8',
        setup: (root) => write(root, 'latin1.md', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])),
        message: /not valid UTF-8/,
      },
    ];
    for (const testCase of cases) {
      it(testCase.name, async () => {
        using workspace = new TempWorkspace();
        const prdPath = testCase.setup(workspace.root);
        const before = snapshotTree(workspace.root);
        const result = await loki(workspace, ['init', prdPath]);
        expect(result.exitCode).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).toMatch(testCase.message);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(snapshotTree(workspace.root)).toEqual(before);
      });
    }
  });
});

function write(root: string, name: string, content: string | Buffer): string {
  writeFileSync(join(root, name), content);
  return name;
}
