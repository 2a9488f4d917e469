import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../src/orchestrator/index.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import {
  git,
  mergedTaskIds,
  prepareRun,
  readEvents,
  readJsonFile,
  reportFiles,
} from './support/run-harness.ts';

/** The project's test command: every test script under tests/ (none yet is a pass, like an empty suite). */
const PROJECT_TESTS = 'for t in tests/*.sh; do [ -e "$t" ] || continue; sh "$t" || exit 1; done';

const write = (path: string, content: string) => ({
  toolCalls: [{ toolName: 'write_file', input: { path, content } }],
});
const complete = {
  toolCalls: [{ toolName: 'task_complete', input: { summary: 'done', files_changed: [], tests_run: [] } }],
};

/** Runs `command` on a fresh copy of each commit of main's first-parent history; returns the red ones. */
function redCommitsOnMain(root: string, command: string): string[] {
  const red: string[] = [];
  for (const commit of git(root, ['rev-list', '--first-parent', 'main']).trim().split('\n')) {
    const copy = mkdtempSync(join(tmpdir(), 'loki-main-commit-'));
    try {
      execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', root, commit, copy]);
      const result = spawnSync('sh', ['-c', command], { cwd: copy, encoding: 'utf8' });
      if (result.status !== 0) red.push(`${commit}: ${result.stdout}${result.stderr}`);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  return red;
}

function onlyReport(root: string): RunReport {
  const json = reportFiles(root).filter((name) => name.endsWith('.json'));
  expect(json).toHaveLength(1);
  return readJsonFile<RunReport>(join(root, '.loki', 'artifacts', 'reports', json[0] ?? ''));
}

function addTaskScripts(root: string, scripts: Record<string, unknown[]>): void {
  const sessionPath = join(root, 'session.json');
  const session = readJsonFile<{ tasks: Record<string, unknown> }>(sessionPath);
  Object.assign(session.tasks, scripts);
  writeFileSync(sessionPath, JSON.stringify(session));
}

describe('main stays green', () => {
  it("refuses a task whose own test passes but that breaks another part's test; its fix lands instead", async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, {
      tasks: [
        {
          id: 'greeter',
          phase: 'infrastructure',
          files: { 'greet.sh': 'echo hello\n', 'tests/greet.sh': '[ "$(sh greet.sh)" = hello ]\n' },
          verifyCommands: ['sh tests/greet.sh'],
        },
        {
          id: 'banner',
          dependencies: ['greeter'],
          files: {
            'banner.sh': 'echo "== $(sh greet.sh) =="\n',
            'tests/banner.sh': '[ "$(sh banner.sh)" = "== hello ==" ]\n',
          },
          verifyCommands: ['sh tests/banner.sh'],
        },
        // Shouting changes the greeting and its own test, but not the banner's test: only the
        // project's tests on the merge result can see the break.
        {
          id: 'shout',
          dependencies: ['banner'],
          files: { 'greet.sh': 'echo HELLO\n', 'tests/greet.sh': '[ "$(sh greet.sh)" = HELLO ]\n' },
          verifyCommands: ['sh tests/greet.sh'],
        },
      ],
      verifyCommands: [PROJECT_TESTS],
    });
    addTaskScripts(workspace.root, {
      'shout-fix': [write('tests/banner.sh', '[ "$(sh banner.sh)" = "== HELLO ==" ]\n'), complete],
    });

    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);

    const rejected = readEvents(result.stdout).filter((event) => event.type === 'merge.rejected');
    expect(rejected.map((event) => [event.taskId, event.data])).toEqual([
      [
        'shout',
        {
          outcome: 'verification_failed',
          details: `re-verification on the rebased result failed: \`${PROJECT_TESTS}\` exited 1`,
          resolutionTaskId: 'shout-fix',
        },
      ],
    ]);
    expect(mergedTaskIds(workspace.root)).toEqual(['greeter', 'banner', 'shout-fix']);
    expect(git(workspace.root, ['show', 'main:greet.sh']).trim()).toBe('echo HELLO');
    expect(redCommitsOnMain(workspace.root, PROJECT_TESTS)).toEqual([]);
    const report = onlyReport(workspace.root);
    expect(report.status).toBe('completed');
    expect(report.tasks.find((task) => task.id === 'shout')).toMatchObject({ mergedVia: 'shout-fix' });
  }, 90_000);

  it('turns a red main found at QA into fix work, and exits 0 once the fix makes main green', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, {
      tasks: [{ id: 'one', files: { 'files/one.txt': 'one\n' } }],
      // No planned task writes the notice the gate wants: main is red until QA's fix work.
      verifyCommands: ['test -f NOTICE'],
    });
    addTaskScripts(workspace.root, { 'qa-fix-1': [write('NOTICE', 'notice\n'), complete] });

    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    expect(mergedTaskIds(workspace.root)).toEqual(['one', 'qa-fix-1']);
    const report = onlyReport(workspace.root);
    expect(report.status).toBe('completed');
    const fix = report.tasks.find((task) => task.id === 'qa-fix-1');
    expect(fix).toMatchObject({ status: 'completed', phase: 'qa' });
    const queued = await loki(workspace, ['queue', 'show', 'qa-fix-1', '--json']);
    expect(queued.stdout).toContain('test -f NOTICE');
  }, 90_000);

  it('exits 3 once the fix rounds are used up and main is still red', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, {
      tasks: [{ id: 'one', files: { 'files/one.txt': 'one\n' } }],
      // The gates pass, but the product never starts: Deployment's health check stays red.
      deployment: { startCommand: 'echo "not a server"', healthPath: '/health' },
    });
    const fixScript = [write('files/attempt.txt', 'tried\n'), complete];
    addTaskScripts(workspace.root, { 'deployment-fix-1': fixScript, 'deployment-fix-2': fixScript });
    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(3);
    expect(mergedTaskIds(workspace.root)).toEqual(['one', 'deployment-fix-1', 'deployment-fix-2']);
    const report = onlyReport(workspace.root);
    expect(report.status).toBe('not_verified');
    expect(report.summary).toContain('after 2 fix round(s)');
    expect(report.notProven.join('\n')).toContain('health check GET /health did not answer 2xx');
    const queued = await loki(workspace, ['queue', 'show', 'deployment-fix-1', '--json']);
    expect(queued.stdout).toContain('not a server');
  }, 90_000);
});
